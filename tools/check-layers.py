#!/usr/bin/env python3
# check-layers.py SRCDIR: fails on any upward #include inside kaa/.
#
# STYLE.md section 1: a file includes headers of its own layer and lower
# ones only; coroutine and thread pool share layer 4 but never include
# each other.  Every kaa/*.c, *.h, *.h.in and *.S file is read, and every
# #include "..." (and <kaa/...>) that names a libkaa header is checked.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import fnmatch
import os
import re
import sys

# (pattern, layer, group).  Same layer and same group may include each
# other; a different group at the same layer may not.  The first match
# wins.  A new file whose name matches nothing makes the check fail until
# it is classified here.
LAYERS = [
    ("config.h", 0, "base"),
    ("kaa-version-macros.h", 0, "base"),
    ("kaa-version.h", 0, "base"),
    ("kaa-version.h.in", 0, "base"),
    ("kaa-error.*", 0, "base"),
    ("kaa-enum-types.*", 0, "base"),
    ("kaa-i18n*", 0, "base"),
    ("kaa-refcount*", 0, "base"),
    ("kaa-live*", 0, "base"),
    ("kaa-debug*", 0, "base"),
    ("kaa-trace*", 0, "base"),
    ("kaa-alloc*", 0, "base"),
    ("kaa-valgrind*", 0, "base"),
    ("kaa-hot*", 0, "base"),
    ("kaa-signal-args*", 0, "base"),
    ("kaa-unix-signal*", 0, "base"),
    ("kaa-fiber*", 1, "fiber"),
    ("kaa-scheduler*", 2, "scheduler"),
    ("kaa-in-progress*", 3, "in-progress"),
    ("kaa-progress*", 3, "in-progress"),
    ("kaa-dump*", 3, "in-progress"),
    ("kaa-outcome*", 3, "in-progress"),
    ("kaa-coroutine*", 4, "coroutine"),
    ("kaa-thread-pool*", 4, "thread-pool"),
    ("kaa-main-thread*", 4, "thread-pool"),
    ("kaa-combinators*", 5, "combinators"),
    ("kaa-channel*", 5, "channel"),
    ("kaa-semaphore*", 5, "limits"),
    ("kaa-mutex*", 5, "limits"),
    ("kaa-scope*", 5, "scope"),
    ("kaa-gio*", 6, "gio"),
    # The umbrella header sits above everything and may include anything.
    ("kaa.h", 7, "umbrella"),
]

SOURCE_PATTERNS = ("*.c", "*.h", "*.h.in", "*.S")

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*(?:"([^"]+)"|<kaa/([^>]+)>)')


def classify(name):
    for pattern, layer, group in LAYERS:
        if fnmatch.fnmatchcase(name, pattern):
            return layer, group
    return None


def is_libkaa_header(name):
    return name == "config.h" or name == "kaa.h" or name.startswith("kaa-")


def describe(layer_group):
    layer, group = layer_group
    return "layer %d (%s)" % (layer, group)


def check_file(path, name, errors):
    where = classify(name)
    if where is None:
        errors.append("%s: unknown file: classify it in LAYERS in %s"
                      % (path, os.path.abspath(__file__)))
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            match = INCLUDE_RE.match(line)
            if not match:
                continue
            included = os.path.basename(match.group(1) or match.group(2))
            if not is_libkaa_header(included):
                continue
            target = classify(included)
            if target is None:
                errors.append('%s:%d: #include "%s": unknown header: classify '
                              "it in LAYERS in %s"
                              % (path, lineno, included,
                                 os.path.abspath(__file__)))
            elif target[0] > where[0] or (target[0] == where[0]
                                          and target[1] != where[1]):
                errors.append('%s:%d: #include "%s": %s must not include %s'
                              % (path, lineno, included, describe(where),
                                 describe(target)))


def main(argv):
    if len(argv) != 2:
        print("usage: %s SRCDIR" % argv[0], file=sys.stderr)
        return 2
    kaa_dir = os.path.join(argv[1], "kaa")
    if not os.path.isdir(kaa_dir):
        print("%s: no kaa/ directory" % argv[1], file=sys.stderr)
        return 2

    names = sorted(n for n in os.listdir(kaa_dir)
                   if any(fnmatch.fnmatchcase(n, p) for p in SOURCE_PATTERNS))
    errors = []
    for name in names:
        check_file(os.path.join(kaa_dir, name), name, errors)

    for error in errors:
        print(error)
    if errors:
        print("FAIL: %d upward or unclassified includes in %d files"
              % (len(errors), len(names)))
        return 1
    print("ok: %d files" % len(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
