#!/usr/bin/env bash
# The install test (issue #8): installs the build into a temporary root
# with meson install --destdir, then builds and runs a program outside
# the tree against it using nothing but pkg-config --cflags --libs kaa-1.
#
#   check-install.sh BUILD_DIR SOURCE_DIR SANITIZE
#
# SANITIZE is the build's b_sanitize; a sanitized library needs its
# runtime in every program that links it, so the test is skipped there.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

build_dir=$1
source_dir=$2
sanitize=$3

if [[ $sanitize != none ]]; then
  echo "skipped: a -fsanitize=$sanitize library needs its runtime in the program"
  exit 77
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

meson install -C "$build_dir" --destdir "$root" --no-rebuild --quiet
pc=$(find "$root" -name kaa-1.pc | head -n 1)
if [[ -z $pc ]]; then
  echo "kaa-1.pc was not installed"
  exit 1
fi

# The staged kaa-1.pc still says prefix=/usr/local; a copy pointing into
# the temporary root stands in for it, as in any staged install. Its
# Requires (GLib) resolve from the system as usual.
mkdir "$root/pkgconfig"
prefix=$(sed -n 's/^prefix=//p' "$pc")
sed "s|^prefix=.*|prefix=$root$prefix|" "$pc" > "$root/pkgconfig/kaa-1.pc"
export PKG_CONFIG_PATH=$root/pkgconfig
cflags=$(pkg-config --cflags kaa-1)
libs=$(pkg-config --libs kaa-1)
libdir=$(pkg-config --variable=libdir kaa-1)

cc -o "$root/tour" "$source_dir/examples/tour.c" $cflags $libs
LD_LIBRARY_PATH=$libdir "$root/tour" > "$root/tour.out"
# The installed library, not the build tree's, must have been loaded.
# Captured first: "ldd | grep -q" fails at random under pipefail, when
# grep exits at its match while ldd still writes and ldd dies of SIGPIPE.
linked=$(LD_LIBRARY_PATH=$libdir ldd "$root/tour")
grep -q "$root" <<< "$linked"
grep -q "lift-off" "$root/tour.out"
echo "built and ran examples/tour.c against $libdir"
