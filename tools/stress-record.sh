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

# Appends one row for the logs $3... of kind $1 built as $2, then redraws.
record_logs ()
{
  python3 - "$record" "$@" <<'EOF'
import re, sys, time
from pathlib import Path

record, kind, build, *logs = sys.argv[1:]
count = seconds = 0
seeds, failures, notes = [], [], []
for log in logs:
    # FILE@SECONDS: a run whose log does not say how long it took (a
    # fuzzer stopped by a crash) with the time measured outside it.
    log, _, given = log.partition("@")
    text = Path(log).read_text(errors="replace")
    if kind == "stress":
        seed = re.search(r"^# seed (\d+)", text, re.M)
        seeds.append(seed.group(1) if seed else "?")
        end = re.search(r"^# (\d+) operations, seed \d+, ([\d.]+) s", text, re.M)
        progress = re.findall(r"^# progress: (\d+) operations, (\d+) s", text, re.M)
        if end:
            n, s = int(end.group(1)), float(end.group(2))
        elif progress:
            n, s = int(progress[-1][0]), float(progress[-1][1])
        else:
            # Failed before its first progress line: the failure or the
            # trace it printed says how far it got.
            at = (re.findall(r"\(operation (\d+), episode", text) or
                  re.findall(r"^\s+\[(\d+)\] ", text, re.M))
            n, s = (int(at[-1]) if at else 0), 0.0
        bail = re.search(r"^Bail out! (?:.*?stress: )?(.*)$", text, re.M)
        if bail:
            failures.append(bail.group(1))
        elif not end:
            notes.append(f"stopped at {n:,} operations by its time limit, no failure")
    else:
        done = re.search(r"^Done (\d+) runs in (\d+) second", text, re.M)
        n = int(done.group(1)) if done else 0
        s = float(done.group(2)) if done else 0.0
        fork = re.findall(r"^#(\d+): cov: .* time: (\d+)s", text, re.M)
        if not done and fork:
            n, s = int(fork[-1][0]), float(fork[-1][1])
            crashes = re.findall(r"oom/timeout/crash: (\d+)/(\d+)/(\d+)", text)
            if crashes and int(crashes[-1][2]) > 0:
                failures.append(f"{crashes[-1][2]} crash(es) in fork mode, input not kept")
        elif not done:
            last = re.findall(r"^#(\d+)\s.*?exec/s: \d+", text, re.M)
            n = int(last[-1]) if last else 0
        # The message itself, not the trace it prints first.
        why = re.search(r"ERROR \*\*: [\d:.]+: (stress: .*)()", text) or \
            re.search(r"(stress: .*|Kaa-CRITICAL \*\*: [\d:.]+: (.*)|"
                      r"ERROR: \w+Sanitizer: [\w-]+)", text)
        crash = re.search(r"Test unit written to (\S+)", text)
        if crash or (not done and not fork and why):
            what = (why.group(2) or why.group(1)) if why else "deadly signal"
            failures.append(what + (f" (input {Path(crash.group(1)).name})" if crash else
                                    " (input not kept)"))
        elif not done and not fork:
            notes.append("stopped before its end, no failure")
    if given:
        s = float(given)
    count += n
    seconds += s
result = "; ".join(failures or notes) or "clean"
# The run ended when its last log was last written.
ended = max(Path(log.partition("@")[0]).stat().st_mtime for log in logs)
row = [time.strftime("%Y-%m-%d %H:%M", time.gmtime(ended)), kind, build,
       ",".join(seeds) if seeds else "-", str(count), f"{seconds:.0f}", result]
path = Path(record)
if not path.exists():
    path.write_text("# date (UTC)\tkind\tbuild\tseed\toperations or runs\tseconds\tresult\n")
with path.open("a") as f:
    f.write("\t".join(row) + "\n")
print("recorded:", " | ".join(row))
sys.exit(1 if failures else 0)
EOF
}

redraw_readme ()
{
  python3 - "$record" README.md <<'EOF'
import sys
from pathlib import Path

record, readme = (Path(p) for p in sys.argv[1:])
text = record.read_text() if record.exists() else ""
rows = [l.split("\t") for l in text.splitlines() if l and not l.startswith("#")]
stress_ops = sum(int(r[4]) for r in rows if r[1] == "stress")
fuzz_s = sum(float(r[5]) for r in rows if r[1] == "fuzz")
found = [r for r in rows if r[6] != "clean" and "no failure" not in r[6]]
lines = [
    "<!-- stress-record: generated by bash tools/stress-record.sh from tests/stress/record.tsv -->",
    "",
    f"In all: {stress_ops:,} random operations of the stress test and "
    f"{fuzz_s / 3600:.1f} h of fuzzing; {len(found)} run(s) found something.",
    "",
    "| date (UTC) | kind | build | seed | operations / runs | seconds | result |",
    "|---|---|---|---|---:|---:|---|",
]
# 0: a run that failed before it could say how far or how long it ran.
lines += [f"| {' | '.join(r[:4])} | {f'{int(r[4]):,}' if r[4] != '0' else '?'} | "
          f"{r[5] if r[5] != '0' else '?'} | {r[6]} |" for r in rows]
begin, end = "<!-- stress-record:begin -->", "<!-- stress-record:end -->"
text = readme.read_text()
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
readme.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)
EOF
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
