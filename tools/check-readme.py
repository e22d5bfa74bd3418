#!/usr/bin/env python3
# Checks that every C block of the README's tour stands verbatim in
# examples/tour.c, so that the README shows only code that is compiled
# and run by the test suite (STYLE §4).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import re
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
readme = (root / "README.md").read_text()
program = (root / "examples" / "tour.c").read_text()

blocks = re.findall(r"```c\n(.*?)```", readme, re.S)
missing = [b for b in blocks if b not in program]
for block in missing:
    first = block.strip().splitlines()[0]
    print(f"README block not in examples/tour.c: {first!r}", file=sys.stderr)
if not blocks:
    print("no C blocks found in README.md", file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(blocks)} blocks")
sys.exit(1 if missing else 0)
