#!/usr/bin/env bash
# The subproject test (issue #22): a throwaway parent project consumes
# libkaa through dependency('kaa-1', fallback: ...) with a static
# default_library, as a GNOME application bundling it would, and checks
#
#   - that none of libkaa's tests is registered in the parent's
#     `meson test`, and that libkaa builds no executable there;
#   - that the parent's own config.h wins over libkaa's, and that no
#     private libkaa header is reachable through kaa_dep;
#   - that the static build links and runs;
#   - that the examples, asked for (-Dlibkaa:examples=enabled), are
#     built but register no test either, and that libkaa built on its
#     own with -Dtests=disabled registers none, examples and docs on.
#
#   check-subproject.sh SOURCE_DIR SANITIZE
#
# SANITIZE is the build's b_sanitize: the parent is built without one,
# so the test runs in the plain build only.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

source_dir=$1
sanitize=$2

if [[ $sanitize != none ]]; then
  echo "skipped: the parent project is built without -fsanitize"
  exit 77
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
parent=$root/parent
mkdir -p "$parent/subprojects"
# A copy of the sources, without the build directories in them, stands
# in for what a wrap would download.
tar -C "$source_dir" --exclude='./_build*' --exclude='./.git' -cf - . \
  | tar -C "$root" --one-top-level=libkaa -xf -
mv "$root/libkaa" "$parent/subprojects/libkaa"

cat > "$parent/meson.build" <<'MESON'
project('parent', 'c', default_options: ['default_library=static'])
conf = configuration_data()
conf.set('PARENT_CONFIG_H', 1)
configure_file(output: 'config.h', configuration: conf)
kaa_dep = dependency('kaa-1', fallback: ['libkaa', 'kaa_dep'])
exe = executable('parent', 'main.c', dependencies: kaa_dep)
test('parent', exe)
MESON

cat > "$parent/main.c" <<'C'
#include "config.h"
#include <kaa/kaa.h>

#ifndef PARENT_CONFIG_H
# error "the parent's config.h lost to another one"
#endif
#if defined (GETTEXT_PACKAGE) || defined (KAA_THREAD_LOCAL)
# error "libkaa's config.h leaked into the parent"
#endif
#if __has_include ("kaa-in-progress-private.h") || __has_include (<kaa/kaa-in-progress-private.h>)
# error "a private libkaa header is reachable through kaa_dep"
#endif

int
main (void)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  gint64 value;

  kaa_in_progress_finish_int64 (ip, 42);
  value = kaa_in_progress_get_int64 (ip);
  kaa_in_progress_unref (ip);
  return value == 42 ? 0 : 1;
}
C

cd "$parent"
meson setup _build -Dwerror=true > "$root/setup.log" 2>&1 || { cat "$root/setup.log"; exit 1; }

tests=$(meson test -C _build --no-rebuild --list 2>/dev/null)
if [[ $tests != parent ]]; then
  echo "FAIL: the parent's meson test lists more than its own test:"
  echo "$tests"
  exit 1
fi

executables=$(meson introspect _build --targets | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["subproject"] == "libkaa" and t["type"] == "executable":
        print(t["name"])
')
if [[ -n $executables ]]; then
  echo "FAIL: libkaa builds executables as a subproject:"
  echo "$executables"
  exit 1
fi

meson compile -C _build > "$root/compile.log" 2>&1 || { cat "$root/compile.log"; exit 1; }
meson test -C _build --no-rebuild --print-errorlogs parent
# Static: the program carries libkaa itself and does not load it.
# Captured first: "ldd | grep -q" dies of SIGPIPE under pipefail when
# grep exits at its match while ldd still writes.
linked=$(ldd _build/parent)
symbols=$(nm _build/parent)
if grep -q libkaa <<< "$linked"; then
  echo "FAIL: the static parent loads a shared libkaa"
  exit 1
fi
if ! grep -q ' T kaa_in_progress_new$' <<< "$symbols"; then
  echo "FAIL: libkaa is not linked into the static parent"
  exit 1
fi

# Tests come only with -Dtests: not with the examples that some of them
# run, nor with the docs that others check.
meson setup _build-examples -Dlibkaa:examples=enabled > "$root/setup-examples.log" 2>&1 \
  || { cat "$root/setup-examples.log"; exit 1; }
tests=$(meson test -C _build-examples --no-rebuild --list 2>/dev/null)
if [[ $tests != parent ]]; then
  echo "FAIL: -Dlibkaa:examples=enabled registers libkaa tests in the parent:"
  echo "$tests"
  exit 1
fi
meson setup "$root/alone" subprojects/libkaa -Dtests=disabled -Dexamples=enabled -Ddocs=auto \
  -Dgtk_demo=disabled > "$root/setup-alone.log" 2>&1 || { cat "$root/setup-alone.log"; exit 1; }
# Meson says so, and exits with 1, when there is nothing to list.
tests=$(meson test -C "$root/alone" --no-rebuild --list 2>&1 || true)
if [[ $tests != "No tests defined." ]]; then
  echo "FAIL: libkaa with -Dtests=disabled registers tests:"
  echo "$tests"
  exit 1
fi
echo "ok: libkaa as a static subproject: no test, no executable, the parent's config.h;"
echo "ok: no test with -Dtests=disabled, also with the examples and the docs on"
