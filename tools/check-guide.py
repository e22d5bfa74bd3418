#!/usr/bin/env python3
# Checks that every code block of docs/guide.md stands verbatim in a
# program the test suite runs: a C block in one of docs/examples/*.c, a
# Python block (possibly re-indented, as a method is) in tests/test-gi.py.
# It also checks that every example is linked from the guide, so that
# none is built and run without being explained (STYLE §4, §11).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import re
import sys
import textwrap
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
guide = (root / "docs" / "guide.md").read_text()
examples = {p.name: p.read_text() for p in sorted((root / "docs" / "examples").glob("*.c"))}
python_test = (root / "tests" / "test-gi.py").read_text()

failures = []
blocks = re.findall(r"```(\w+)\n(.*?)```", guide, re.S)
for lang, block in blocks:
    first = block.strip().splitlines()[0] if block.strip() else "(empty)"
    if lang == "c":
        if not any(block in text for text in examples.values()):
            failures.append(f"C block not in docs/examples/*.c: {first!r}")
    elif lang == "python":
        if not any(textwrap.indent(block, " " * n) in python_test for n in (0, 4, 8)):
            failures.append(f"Python block not in tests/test-gi.py: {first!r}")
for name in examples:
    if f"(examples/{name})" not in guide:
        failures.append(f"docs/examples/{name} is not linked from the guide")

for failure in failures:
    print(failure, file=sys.stderr)
counted = sum(1 for lang, _ in blocks if lang in ("c", "python"))
if counted == 0:
    print("no C or Python blocks found in docs/guide.md", file=sys.stderr)
    sys.exit(1)
print(f"ok: {counted} blocks, {len(examples)} examples")
sys.exit(1 if failures else 0)
