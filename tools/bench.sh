#!/usr/bin/env bash
# The one benchmark command (make bench):
#
#   bash tools/bench.sh           build, run every benchmark, redraw docs/
#   bash tools/bench.sh --quick   build, run every benchmark briefly; docs/
#                                 is left alone (CI's smoke run)
#
# It installs what is missing, configures _build when it is not yet,
# compiles, then runs each program that benchmarks/meson.build registers
# with benchmark(), one at a time, with the arguments given there.  Each
# prints its human table on stdout and appends its JSON Lines to
# _build/benchmarks/results.jsonl, which is emptied first.  A full run
# ends with tools/bench-report.py, which turns that file into
# docs/benchmarks.{md,png,svg}.
#
# A busy machine gives noisy figures: the load average is printed and
# warned about, never refused.  Nothing here judges a speed: the exit
# status is non-zero only when something fails to build, crashes or
# exits non-zero.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=_build
results=$build_dir/benchmarks/results.jsonl

usage ()
{
  echo "usage: bash tools/bench.sh [--quick]"
}

quick=0
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

bash tools/deps.sh

if [[ ! -f $build_dir/meson-private/coredata.dat ]]; then
  meson setup "$build_dir"
fi
meson compile -C "$build_dir"

echo
uptime
cpus=$(nproc)
load=$(cut -d ' ' -f 1 /proc/loadavg)
if awk -v load="$load" -v cpus="$cpus" 'BEGIN { exit !(load > 0.5 * cpus) }'; then
  echo "bench: WARNING: 1-minute load $load is above half of the $cpus CPUs;" \
       "the figures will be noisy, rerun on a quiet machine"
fi

# One line per benchmark() target: its name, then its command with the
# environment meson gives it (LD_LIBRARY_PATH, ...), shell-quoted.
mapfile -t benchmarks < <(
  meson introspect "$build_dir" --benchmarks | python3 -c '
import json, shlex, sys
for b in json.load(sys.stdin):
    env = ["%s=%s" % item for item in sorted(b["env"].items())]
    timeout = str(b["timeout"]) if b.get("timeout") else "0"
    print(b["name"], shlex.join(["env"] + env + ["timeout", timeout] + b["cmd"]))
')

if [[ ${#benchmarks[@]} -eq 0 ]]; then
  echo "bench: no benchmark() target in $build_dir" >&2
  exit 1
fi

mkdir -p "$(dirname "$results")"
: > "$results"

for line in "${benchmarks[@]}"; do
  name=${line%% *}
  eval "cmd=(${line#* })"
  # Every program takes --json PATH and --quick; add what meson.build
  # did not already pass.
  if [[ " ${cmd[*]} " != *" --json "* ]]; then
    cmd+=(--json "$results")
  fi
  if [[ $quick -eq 1 ]]; then
    cmd+=(--quick)
  fi
  echo
  echo "==> benchmark $name"
  if ! "${cmd[@]}"; then
    echo "bench: benchmark $name FAILED" >&2
    exit 1
  fi
done

echo
echo "bench: ${#benchmarks[@]} benchmark(s), $(wc -l < "$results") case(s) in $results"

if [[ $quick -eq 0 ]]; then
  python3 tools/bench-report.py "$results"
fi
