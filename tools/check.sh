#!/usr/bin/env bash
# Runs the whole test suite six ways and prints one summary line:
#
#   1. _build       the normal build, -Dwerror=true, with the API reference
#                   (-Ddocs=enabled: its link check), then every benchmark
#                   briefly (bash tools/bench.sh --quick), counted as one
#                   test that only a crash or a non-zero exit fails
#   2. _build-asan  ASan + UBSan (LeakSanitizer on), -Dwerror=true
#   3. _build-ucontext  suites fast and slow with the portable context
#                   switch (-Dfiber_backend=ucontext)
#   4. _build-tsan  ThreadSanitizer, -Dwerror=true, over suite "tsan": the
#                   threaded tests, those of fibers and coroutines and the
#                   rest (tests/meson.build), with halt_on_error=1 and
#                   tests/tsan.supp; tests/kaa-tsan-glib.c shows TSan what
#                   GLib's futex-based GMutex and GCond do, and test-tsan
#                   checks the stage itself (tsan-race must fail)
#   5. Valgrind memcheck over suites "fast" and "thread" of _build, no
#                   leak and no error allowed; tests/glib.supp suppresses
#                   only GLib's own one-time initialisation.  Helgrind is
#                   not a stage: it cannot see GLib's futex-based GMutex
#                   and reports every locked access as a race; TSan with
#                   tests/kaa-tsan-glib.c covers races instead (stage 4)
#   6. _build-fuzz  clang, -Dfuzzing=true, ASan+UBSan: tests/fuzz/fuzz-stress
#                   (libFuzzer over the stress interpreter, issue #7) for
#                   60 s from the seed corpus in tests/fuzz/corpus, counted
#                   as one test; its log is _build-fuzz/fuzz.log, a crash
#                   input is kept in _build-fuzz/fuzz-artifacts/
#
# Each build directory is configured when it is not yet, and its options
# are put right when they differ.  A stage that cannot configure or build
# counts as one failure and the others still run.  The last line printed
# is always "N passed, N failed" (", N skipped" when something was
# skipped); the exit status is non-zero when anything failed.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
srcdir=$(pwd)

normal_dir=_build
normal_opts=(-Dwerror=true -Ddocs=enabled)
ucontext_dir=_build-ucontext
ucontext_opts=(-Dfiber_backend=ucontext -Dwerror=true)
asan_dir=_build-asan
asan_opts=(-Dbuildtype=debug '-Db_sanitize=address,undefined' -Db_lundef=false -Dwerror=true)
tsan_dir=_build-tsan
tsan_opts=(-Dbuildtype=debug -Db_sanitize=thread -Db_lundef=false -Dwerror=true)
fuzz_dir=_build-fuzz
fuzz_opts=(-Dbuildtype=debug '-Db_sanitize=address,undefined' -Db_lundef=false -Dfuzzing=true
           -Dintrospection=disabled -Dgtk_demo=disabled -Dwerror=true)
fuzz_seconds=60

passed=0
failed=0
skipped=0
logdir=$(mktemp -d)

# Runs on every exit, also an unexpected one under set -e, so that the
# summary is always the last line and an aborted run never looks green.
finish ()
{
  local status=$?

  trap - EXIT
  rm -rf "$logdir"
  if [[ $status -ne 0 && $failed -eq 0 ]]; then
    echo "check: aborted with status $status"
    failed=$((failed + 1))
  fi
  echo
  if [[ $skipped -gt 0 ]]; then
    echo "$passed passed, $failed failed, $skipped skipped"
  else
    echo "$passed passed, $failed failed"
  fi
  if [[ $failed -gt 0 ]]; then
    exit 1
  fi
  exit 0
}
trap finish EXIT

stage ()
{
  echo
  echo "==> $*"
}

# Prints the value of meson's summary line LABEL ("Ok:", "Fail:", ...) in
# LOG, the last one if test output happened to contain the same words.
count ()
{
  awk -v label="$1" '$1 == label || ($1 " " $2) == label { n = $NF } END { print n + 0 }' "$2"
}

# True when every -Dname=value in $2... matches the configuration of $1.
options_match ()
{
  local dir=$1
  shift
  meson introspect "$dir" --buildoptions | python3 -c '
import json, sys
current = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for arg in sys.argv[1:]:
    name, value = arg[len("-D"):].split("=", 1)
    have = current.get(name)
    if isinstance(have, bool):
        have = "true" if have else "false"
    elif isinstance(have, list):
        have = ",".join(have)
    if str(have) != value:
        sys.exit(1)
' "$@"
}

# Configures build directory $1 with options $2... unless it already is.
configure ()
{
  local dir=$1
  shift
  if [[ ! -f $dir/meson-private/coredata.dat ]]; then
    meson setup "$dir" "$@"
  elif [[ ! -f $dir/build.ninja ]]; then
    meson setup --reconfigure "$dir" "$@"
  elif ! options_match "$dir" "$@"; then
    meson configure "$dir" "$@"
  fi
}

# Configures and compiles $2 with options $3...; a failure counts once.
# Options may be followed by -- and the only targets to compile.
build ()
{
  local name=$1 dir=$2 opts=() targets=()
  shift 2
  while [[ $# -gt 0 && $1 != -- ]]; do
    opts+=("$1")
    shift
  done
  [[ $# -gt 0 ]] && shift
  targets=("$@")
  stage "[$name] configure and compile $dir ${targets[*]}"
  if configure "$dir" "${opts[@]}" && meson compile -C "$dir" "${targets[@]}"; then
    return 0
  fi
  echo "check: [$name] build FAILED"
  failed=$((failed + 1))
  return 1
}

# Runs "meson test -C $2 $3..." and adds its counts to the totals.
run_tests ()
{
  local name=$1 dir=$2
  shift 2
  local log=$logdir/$name.log status=0 ok fail skip

  stage "[$name] meson test -C $dir $*"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 "$@" \
    2>&1 | tee "$log" || status=$?

  ok=$(( $(count Ok: "$log") + $(count "Expected Fail:" "$log") ))
  fail=$(( $(count Fail: "$log") + $(count "Unexpected Pass:" "$log") + $(count Timeout: "$log") ))
  skip=$(count Skipped: "$log")
  # meson failing without a failed test (a crash, a bad option) still fails.
  if [[ $status -ne 0 && $fail -eq 0 ]]; then
    echo "check: [$name] meson test exited with status $status"
    fail=1
  fi
  if [[ $((ok + fail + skip)) -eq 0 ]]; then
    echo "check: [$name] WARNING: no test ran"
  fi
  echo "check: [$name] $ok passed, $fail failed, $skip skipped (log: $dir/meson-logs/testlog*.txt)"
  passed=$((passed + ok))
  failed=$((failed + fail))
  skipped=$((skipped + skip))
}

# Runs every benchmark briefly so that none rots (issue #9). It counts as
# one test; a speed never fails it, only a crash or a non-zero exit.
run_bench_quick ()
{
  stage "[bench] bash tools/bench.sh --quick"
  if bash tools/bench.sh --quick; then
    echo "check: [bench] 1 passed, 0 failed"
    passed=$((passed + 1))
  else
    echo "check: [bench] bash tools/bench.sh --quick FAILED"
    failed=$((failed + 1))
  fi
}

# libFuzzer over the stress interpreter (issue #7). It writes what it
# learns into the first corpus directory, a scratch one, so that the
# seeds in the repository stay as they are.
run_fuzz ()
{
  local scratch status=0

  stage "[fuzz] $fuzz_dir/tests/fuzz-stress -max_total_time=$fuzz_seconds"
  scratch=$(mktemp -d)
  mkdir -p "$fuzz_dir/fuzz-artifacts"
  ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$fuzz_dir/tests/fuzz-stress" -max_total_time="$fuzz_seconds" -max_len=2048 \
      -timeout=120 -print_final_stats=1 -artifact_prefix="$fuzz_dir/fuzz-artifacts/" \
      "$scratch" tests/fuzz/corpus > "$fuzz_dir/fuzz.log" 2>&1 || status=$?
  rm -rf "$scratch"
  # Its log is long (a line per new input): the end says what matters.
  tail -n "$([[ $status -eq 0 ]] && echo 8 || echo 80)" "$fuzz_dir/fuzz.log"
  if [[ $status -eq 0 ]]; then
    echo "check: [fuzz] 1 passed, 0 failed"
    passed=$((passed + 1))
  else
    echo "check: [fuzz] fuzz-stress FAILED (status $status; input in $fuzz_dir/fuzz-artifacts/)"
    failed=$((failed + 1))
  fi
}

stage "dependencies"
if ! bash tools/deps.sh; then
  echo "check: could not install the dependencies"
  failed=$((failed + 1))
  exit 1
fi

if build normal "$normal_dir" "${normal_opts[@]}"; then
  normal_built=1
  run_tests normal "$normal_dir"
  run_bench_quick
else
  normal_built=0
fi

if build asan "$asan_dir" "${asan_opts[@]}"; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_tests asan "$asan_dir"
fi

# The portable context switch (issue #3): the coroutine and fiber tests
# against swapcontext instead of the assembly.
if build ucontext "$ucontext_dir" "${ucontext_opts[@]}"; then
  run_tests ucontext "$ucontext_dir" --suite fast --suite slow
fi

# Data races: threads, and fibers and coroutines that await across
# threads. second_deadlock_stack helps read a lock-order report;
# G_SLICE=always-malloc lets TSan see every allocation.
if build tsan "$tsan_dir" "${tsan_opts[@]}"; then
  G_SLICE=always-malloc \
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions='$srcdir/tests/tsan.supp'" \
    run_tests tsan "$tsan_dir" --suite tsan
fi

if [[ $normal_built -eq 1 ]]; then
  valgrind_cmd="valgrind --error-exitcode=1 --leak-check=full"
  valgrind_cmd+=" --show-leak-kinds=definite,indirect"
  valgrind_cmd+=" --errors-for-leak-kinds=definite,indirect --num-callers=30"
  valgrind_cmd+=" --suppressions=$(printf %q "$srcdir/tests/glib.supp")"
  G_SLICE=always-malloc \
    run_tests valgrind "$normal_dir" --suite fast --suite thread \
      --wrap="$valgrind_cmd" --timeout-multiplier 10
else
  echo "check: [valgrind] not run: $normal_dir did not build"
fi

# Only the fuzz target and the library under it: the other stages build
# the rest, and clang's warnings about other tests are not this stage's.
if CC=clang build fuzz "$fuzz_dir" "${fuzz_opts[@]}" -- fuzz-stress; then
  run_fuzz
fi
