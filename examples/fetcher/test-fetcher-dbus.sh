#!/usr/bin/env bash
# test-fetcher-dbus.sh KAA_FETCHER: drives org.libkaa.Fetcher with gdbus call
#
# Run inside dbus-run-session and an X server (meson does both): starts
# the window with the tests' HTTP server, adds a slow download and a
# quick one over D-Bus, pauses the slow one (its bytes stop), cancels
# it, and checks each state through List; a call naming no download
# fails.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

fetcher=$1
dir=$(mktemp -d)
"$fetcher" --dir "$dir" --test-server > "$dir/address" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" || true; rm -rf "$dir"' EXIT

call ()
{
  gdbus call --session --dest org.libkaa.Fetcher --object-path /org/libkaa/Fetcher \
    --method "org.libkaa.Fetcher.$1" "${@:2}"
}

# List without the type names gdbus puts before the first tuple's values.
list ()
{
  call List | sed -E 's/(uint32|int64) //g'
}

fail ()
{
  echo "FAILED: $*"
  list || true
  exit 1
}

# Polls List (every 0.1 s, at most 300 times) until it matches the pattern $1.
await_list ()
{
  for _ in $(seq 300); do
    if list | grep -qE "$1"; then
      return 0
    fi
    sleep 0.1
  done
  fail "List never matched $1"
}

for _ in $(seq 600); do
  [[ -s $dir/address ]] && call List > /dev/null 2>&1 && break
  sleep 0.1
done
base=$(head -n 1 "$dir/address")
[[ $base == http://127.0.0.1:* ]] || fail "no server address ($base)"

# gdbus prints "(uint32 N,)".
slow=$(call Add "$base/slow/8388608/1" | sed -E 's/.*uint32 ([0-9]+).*/\1/')
quick=$(call Add "$base/file/262144/2" | sed -E 's/.*uint32 ([0-9]+).*/\1/')
echo "ok: Add gave ids $slow and $quick"
await_list "\($quick, '[^']*', 'done', 262144, 262144\)"
echo "ok: download $quick is done"
await_list "\($slow, '[^']*', 'running', [1-9][0-9]*,"
call Pause "$slow" > /dev/null
paused=$(list | grep -oE "\($slow, '[^']*', 'paused', [0-9]+" | grep -oE '[0-9]+$') ||
  fail "download $slow is not paused"
sleep 0.5
list | grep -qE "\($slow, '[^']*', 'paused', $paused," ||
  fail "download $slow received bytes while paused"
echo "ok: download $slow paused at $paused bytes, and stayed there"
call Cancel "$slow" > /dev/null
list | grep -qE "\($slow, '[^']*', 'cancelled'," || fail "Cancel did not end $slow at once"
echo "ok: download $slow cancelled"
if call Pause 4242 > /dev/null 2>&1; then
  fail "Pause of an unknown id succeeded"
fi
echo "ok: Pause of an unknown id fails"
[[ ! -e $dir/download-$slow ]] || fail "the cancelled download left its file"
[[ $(sha256sum < "$dir/download-$quick" | cut -d' ' -f1) != "" ]] || fail "no file for $quick"
# SIGTERM quits as closing the window does; under ASan, LeakSanitizer
# runs at that exit and a leak fails it.
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap 'rm -rf "$dir"' EXIT
[[ $status -eq 0 ]] || fail "kaa-fetcher exited with status $status"
echo "ok: kaa-fetcher quit cleanly on SIGTERM"
echo "ok: D-Bus test passed"
