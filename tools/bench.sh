#!/usr/bin/env bash
# The one benchmark command (make bench):
#
#   bash tools/bench.sh           build, run every benchmark from the
#                                 debugoptimized and the release build,
#                                 redraw docs/
#   bash tools/bench.sh --quick   build, run every benchmark briefly from
#                                 the debugoptimized build only; docs/ is
#                                 left alone (CI's smoke run)
#
# It installs what is missing, configures the builds that are not yet,
# compiles them (with --only, just the programs to run), then runs each program that benchmarks/meson.build registers
# with benchmark(), one at a time, with the arguments given there.  Each
# prints its human table on stdout and appends its JSON Lines to a
# results file:
#
#   _build/benchmarks/results.jsonl           _build (debugoptimized,
#                                             the project's default)
#   _build-release/benchmarks/results.jsonl   _build-release (release, as
#                                             a distribution ships it)
#   _build/benchmarks/results-quick.jsonl     --quick, so that a smoke run
#                                             never mixes its figures into
#                                             a real one's
#
# Before a run, the lines of the benchmarks about to run are removed from
# the results file (all of them without --only).  A full run ends with
# tools/bench-report.py, which turns both files into
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
release_dir=_build-release
# Lean: the release build is there only for the benchmarks.  No -Dwerror:
# a warning that only -O3 finds must not stop a measurement.
release_opts=(-Dbuildtype=release -Dtests=disabled -Dexamples=disabled
              -Dintrospection=disabled -Ddocs=disabled -Dgtk_demo=disabled
              -Dfetcher=disabled -Dbenchmarks=enabled)

usage ()
{
  cat <<'EOF'
usage: bash tools/bench.sh [--quick] [--only NAME[,NAME...]] [--release | --no-release]

  (none)        run every benchmark from _build (debugoptimized) and from
                _build-release (release), then redraw docs/benchmarks.md
  --quick       every case briefly, from _build only, into
                _build/benchmarks/results-quick.jsonl; docs/ is left alone
  --only LIST   only these benchmarks (names as in benchmarks/meson.build,
                e.g. loop,coroutine), and compile only their programs (and
                the library they link).  The results files keep the other
                benchmarks' lines from the previous run, and the page is
                redrawn from all of them: each keeps its own date and
                load in the page's machine table
  --release     with --quick: run from _build-release too (into
                _build-release/benchmarks/results-quick.jsonl)
  --no-release  without --quick: _build only; the page keeps the release
                figures of the previous run, if any
EOF
}

quick=0
only=
release=
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=1 ;;
    --only) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    --release) release=1 ;;
    --no-release) release=0 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
if [[ -z $release ]]; then
  release=$((1 - quick))
fi
if [[ $quick -eq 1 ]]; then
  results_name=results-quick.jsonl
else
  results_name=results.jsonl
fi

bash tools/deps.sh

# Prints one line per benchmark() target of build $1 (selected by
# --only): its name, then its command with the environment meson gives
# it (LD_LIBRARY_PATH, ...), shell-quoted, without the --json PATH
# meson.build passes (run_benchmarks names the file).  With $2 = targets,
# prints instead each one's program, relative to the build directory,
# as meson compile takes it.
list_benchmarks ()
{
  meson introspect "$1" --benchmarks | ONLY=$only BUILD=$1 WHAT=${2:-} python3 -c '
import json, os, shlex, sys
only = [name for name in os.environ["ONLY"].split(",") if name]
benchmarks = json.load(sys.stdin)
unknown = sorted(set(only) - {b["name"] for b in benchmarks})
if unknown:
    sys.exit("bench: no benchmark named %s (there are: %s)" % (", ".join(unknown),
             ", ".join(b["name"] for b in benchmarks)))
for b in benchmarks:
    if only and b["name"] not in only:
        continue
    if os.environ["WHAT"] == "targets":
        print(os.path.relpath(b["cmd"][0], os.environ["BUILD"]))
        continue
    env = ["%s=%s" % item for item in sorted(b["env"].items())]
    timeout = str(b["timeout"]) if b.get("timeout") else "0"
    cmd = list(b["cmd"])
    while "--json" in cmd:
        at = cmd.index("--json")
        del cmd[at:at + 2]
    print(b["name"], shlex.join(["env"] + env + ["timeout", timeout] + cmd))
'
}

# Removes from results file $1 the lines of the benchmarks named in the
# remaining arguments ("bench" is the name without "bench-", as
# meson.build's benchmark() names them).
forget_results ()
{
  local file=$1
  shift
  [[ -f $file ]] || return 0
  python3 - "$file" "$@" <<'EOF'
import json, sys
path, names = sys.argv[1], set(sys.argv[2:])
kept = []
with open(path, encoding="utf-8") as f:
    for line in f:
        try:
            if json.loads(line).get("bench") in names:
                continue
        except ValueError:
            continue
        kept.append(line)
with open(path, "w", encoding="utf-8") as f:
    f.writelines(kept)
EOF
}

# Runs the selected benchmarks of build $1 into its results file.
run_benchmarks ()
{
  local dir=$1 results=$1/benchmarks/$results_name line name listed
  local -a benchmarks=() names=() cmd
  # Not mapfile < <(...), which would hide an unknown --only name's exit.
  listed=$(list_benchmarks "$dir")
  if [[ -n $listed ]]; then
    mapfile -t benchmarks <<< "$listed"
  fi
  if [[ ${#benchmarks[@]} -eq 0 ]]; then
    echo "bench: no benchmark() target in $dir" >&2
    exit 1
  fi
  for line in "${benchmarks[@]}"; do
    names+=("${line%% *}")
  done
  mkdir -p "$(dirname "$results")"
  if [[ -z $only ]]; then
    : > "$results"
  else
    forget_results "$results" "${names[@]}"
  fi

  for line in "${benchmarks[@]}"; do
    name=${line%% *}
    eval "cmd=(${line#* })"
    # Every program takes --json PATH and --quick.
    cmd+=(--json "$results")
    if [[ $quick -eq 1 ]]; then
      cmd+=(--quick)
    fi
    echo
    echo "==> benchmark $name ($dir)"
    if ! "${cmd[@]}"; then
      echo "bench: benchmark $name ($dir) FAILED" >&2
      exit 1
    fi
  done
  echo
  echo "bench: ${#benchmarks[@]} benchmark(s) from $dir;" \
       "$(wc -l < "$results") case(s) in $results"
}

# Configures build $1 if it is not yet, with the options that follow,
# and compiles it: all of it, or with --only just those programs.
build ()
{
  local dir=$1 listed
  local -a targets=()
  shift
  if [[ ! -f $dir/meson-private/coredata.dat ]]; then
    meson setup "$dir" "$@"
  fi
  if [[ -n $only ]]; then
    listed=$(list_benchmarks "$dir" targets)
    mapfile -t targets <<< "$listed"
  fi
  meson compile -C "$dir" "${targets[@]}"
}

build "$build_dir"
if [[ $release -eq 1 ]]; then
  build "$release_dir" "${release_opts[@]}"
fi

echo
uptime
cpus=$(nproc)
load=$(cut -d ' ' -f 1 /proc/loadavg)
if awk -v load="$load" -v cpus="$cpus" 'BEGIN { exit !(load > 0.5 * cpus) }'; then
  echo "bench: WARNING: 1-minute load $load is above half of the $cpus CPUs;" \
       "the figures will be noisy, rerun on a quiet machine"
fi

run_benchmarks "$build_dir"
if [[ $release -eq 1 ]]; then
  run_benchmarks "$release_dir"
fi

if [[ $quick -eq 0 ]]; then
  report=(python3 tools/bench-report.py "$build_dir/benchmarks/results.jsonl")
  if [[ -s $release_dir/benchmarks/results.jsonl ]]; then
    report+=(--release "$release_dir/benchmarks/results.jsonl")
  fi
  "${report[@]}"
fi
