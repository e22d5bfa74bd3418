#!/usr/bin/env bash
# test-fetcher-dbus.sh KAA_FETCHER [--twin]: drives org.libkaa.Fetcher with gdbus call
#
# Run inside dbus-run-session and an X server (meson does both): starts
# the window with the tests' HTTP server (on the GTask twin with
# --twin), adds a slow download and a quick one over D-Bus, Waits for
# the quick one, pauses the slow one (its bytes stop; the twin answers
# NotSupported), cancels it while a Wait for it is pending, which then
# answers 'cancelled', and checks each state through List and the
# history through History; a call naming no download fails.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

fetcher=$1
backend=${2:-}
dir=$(mktemp -d)
"$fetcher" --dir "$dir" --test-server $backend > "$dir/address" &
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
# Wait answers once the download has ended: its coroutine awaits the
# backend's changes meanwhile, and other calls are answered.
[[ $(call Wait "$quick") == "('done',)" ]] || fail "Wait $quick did not answer done"
list | grep -qE "\($quick, '[^']*', 'done', 262144, 262144\)" || fail "List disagrees with Wait"
echo "ok: Wait for download $quick answered done"
await_list "\($slow, '[^']*', 'running', [1-9][0-9]*,"
call Wait "$slow" > "$dir/wait-slow" &
waiter=$!
if [[ $backend == --twin ]]; then
  if call Pause "$slow" > "$dir/pause" 2>&1; then
    fail "the twin paused download $slow"
  fi
  grep -q NotSupported "$dir/pause" || fail "Pause on the twin: $(cat "$dir/pause")"
  echo "ok: the twin answers Pause with NotSupported"
else
  call Pause "$slow" > /dev/null
  paused=$(list | grep -oE "\($slow, '[^']*', 'paused', [0-9]+" | grep -oE '[0-9]+$') ||
    fail "download $slow is not paused"
  sleep 0.5
  list | grep -qE "\($slow, '[^']*', 'paused', $paused," ||
    fail "download $slow received bytes while paused"
  echo "ok: download $slow paused at $paused bytes, and stayed there"
fi
sleep 0.2
kill -0 "$waiter" 2> /dev/null || fail "Wait $slow answered before the download ended"
call Cancel "$slow" > /dev/null
wait "$waiter" || fail "Wait $slow failed"
[[ $(cat "$dir/wait-slow") == "('cancelled',)" ]] || fail "Wait $slow: $(cat "$dir/wait-slow")"
list | grep -qE "\($slow, '[^']*', 'cancelled'," || fail "Wait answered before List says cancelled"
echo "ok: download $slow cancelled, and the pending Wait answered cancelled"
if call Pause 4242 > /dev/null 2>&1; then
  fail "Pause of an unknown id succeeded"
fi
if call Wait 4242 > /dev/null 2>&1; then
  fail "Wait of an unknown id succeeded"
fi
echo "ok: Pause and Wait of an unknown id fail"
# History awaits a query of the history on its thread. A row is written
# after its download ended, so poll until both are there.
sum=$(sha256sum < "$dir/download-$quick" | cut -d' ' -f1)
for _ in $(seq 300); do
  call History 127.0.0.1 > "$dir/history" 2>&1 || fail "History failed: $(cat "$dir/history")"
  sed -i -E 's/int64 //g' "$dir/history"
  grep -q "'cancelled'" "$dir/history" && grep -q "'done'" "$dir/history" && break
  sleep 0.1
done
grep -qE "\('[^']*/file/262144/2', 'done', 262144, '$sum'\)" "$dir/history" ||
  fail "History has no done row with the file's SHA-256: $(cat "$dir/history")"
grep -qE "\('[^']*/slow/8388608/1', 'cancelled', [0-9]+, ''\)" "$dir/history" ||
  fail "History has no cancelled row: $(cat "$dir/history")"
echo "ok: History found both rows, the file's SHA-256 with the done one"
[[ ! -e $dir/download-$slow ]] || fail "the cancelled download left its file"
# SIGTERM quits as closing the window does; under ASan, LeakSanitizer
# runs at that exit and a leak fails it.
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap 'rm -rf "$dir"' EXIT
[[ $status -eq 0 ]] || fail "kaa-fetcher exited with status $status"
echo "ok: kaa-fetcher quit cleanly on SIGTERM"
echo "ok: D-Bus test passed"
