#!/usr/bin/env python3
# Runs a seed example (examples/seeds/) with its time scaled down and
# compares what it prints with its .expected file: the same lines in the
# same order, each at about the expected time.
#
#   check-seed.py PROGRAM EXPECTED
#
# EXPECTED holds "SECONDS TEXT" lines, in the program's own (unscaled)
# seconds. A line may come up to LATE seconds after its time, since a
# loaded machine runs timers late, but never more than EARLY before it:
# that would mean a timer fired early or a pause did not hold.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import subprocess
import sys

SCALE = 0.2      # one program second is 200 ms
EARLY = 0.1      # program seconds
LATE = 1.0


def parse(lines, what):
    out = []
    for number, line in enumerate(lines, 1):
        stamp, _, text = line.partition(" ")
        try:
            out.append((float(stamp), text))
        except ValueError:
            sys.exit(f"{what}:{number}: no time stamp in {line!r}")
    return out


def main():
    program, expected_path = sys.argv[1], sys.argv[2]
    env = dict(os.environ, KAA_EXAMPLE_SCALE=str(SCALE), KAA_EXAMPLE_TIMES="1")
    run = subprocess.run([program], env=env, capture_output=True, text=True, timeout=50)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        sys.exit(f"{program} exited with status {run.returncode}")
    with open(expected_path, encoding="utf-8") as f:
        expected = parse(f.read().splitlines(), expected_path)
    got = parse(run.stdout.splitlines(), program)

    failed = False
    for i in range(max(len(expected), len(got))):
        want = expected[i] if i < len(expected) else None
        have = got[i] if i < len(got) else None
        status = "ok"
        if want is None or have is None or want[1] != have[1]:
            status = "WRONG LINE"
        elif not want[0] - EARLY <= have[0] <= want[0] + LATE:
            status = "WRONG TIME"
        failed |= status != "ok"
        print(f"{status:10} want {want[0] if want else '-':>5} {want[1] if want else '(nothing)'}"
              f" | got {have[0] if have else '-':>5} {have[1] if have else '(nothing)'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
