#!/usr/bin/env bash
# Runs the stress test's long mode or the fuzzer, records what ran and
# what it found in tests/stress/record.tsv, and redraws the README's
# section "Stress test and fuzzing" from that file (issue #7):
#
#   bash tools/stress-record.sh stress [OPS [SEED]]   long mode in _build
#                                  (default 10000000 operations, a random seed)
#   bash tools/stress-record.sh fuzz [SECONDS]        fuzz-stress in _build-fuzz
#                                  (default 3600), from tests/fuzz/corpus
#   bash tools/stress-record.sh log stress|fuzz BUILD FILE[@SECONDS]...
#                                  records runs made by hand, from their logs
#                                  (@SECONDS when the log does not tell)
#   bash tools/stress-record.sh readme                only redraws the README
#
# A row's date is when its run ended (its log's last write).
# Both runs go at nice 19. A run that fails is recorded with its message
# (and, for the fuzzer, the crash input it left) and exits non-zero.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
record=tests/stress/record.tsv

usage ()
{
  sed -n '2,17p' "$0" >&2
  exit 2
}

# The row and the README section are written by tools/stress-record.py.
# Appends one row for the logs $3... of kind $1 built as $2.
record_logs ()
{
  python3 tools/stress-record.py log "$record" "$@"
}

redraw_readme ()
{
  python3 tools/stress-record.py readme "$record" README.md
}

[[ $# -ge 1 ]] || usage
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
status=0

case $1 in
  stress)
    ops=${2:-10000000}
    seed=${3:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
    meson compile -C _build tests/test-stress >/dev/null
    KAA_STRESS_OPS=$ops KAA_STRESS_SEED=$seed nice -n 19 _build/tests/test-stress \
      > "$logdir/stress.log" 2>&1 || true
    tail -n 3 "$logdir/stress.log"
    record_logs stress normal "$logdir/stress.log" || status=$?
    ;;
  fuzz)
    seconds=${2:-3600}
    meson compile -C _build-fuzz fuzz-stress >/dev/null
    mkdir -p _build-fuzz/fuzz-corpus _build-fuzz/fuzz-artifacts
    nice -n 19 _build-fuzz/tests/fuzz-stress -max_total_time="$seconds" -max_len=2048 \
      -timeout=120 -artifact_prefix=_build-fuzz/fuzz-artifacts/ \
      _build-fuzz/fuzz-corpus tests/fuzz/corpus > "$logdir/fuzz.log" 2>&1 || true
    tail -n 3 "$logdir/fuzz.log"
    record_logs fuzz asan+ubsan "$logdir/fuzz.log" || status=$?
    ;;
  log)
    [[ $# -ge 4 ]] || usage
    record_logs "${@:2}" || status=$?
    ;;
  readme)
    ;;
  *)
    usage
    ;;
esac
redraw_readme
exit $status
