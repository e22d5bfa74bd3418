#!/usr/bin/env python3
# check-line-length.py: no line of the library's sources passes 100 columns
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-line-length.py SRCDIR
# Checks kaa/*.c, *.h, *.h.in and *.S (STYLE: lines wrap at 100 columns);
# prints each long line as file:line: columns and exits 1 if there is one.
import pathlib
import sys

LIMIT = 100
PATTERNS = ("*.c", "*.h", "*.h.in", "*.S")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-line-length.py SRCDIR")
    kaa = pathlib.Path(sys.argv[1]) / "kaa"
    files = sorted({p for pattern in PATTERNS for p in kaa.glob(pattern)})
    if not files:
        sys.exit(f"no sources under {kaa}")
    long_lines = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            # Columns are characters, not bytes: “quotes” count as one.
            if len(line.expandtabs(8)) > LIMIT:
                print(f"{path.relative_to(kaa.parent)}:{number}: {len(line)} columns")
                long_lines += 1
    if long_lines:
        print(f"{long_lines} line(s) over {LIMIT} columns; wrap them")
        return 1
    print(f"ok: {len(files)} files, no line over {LIMIT} columns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
