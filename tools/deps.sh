#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing libkaa needs,
# and only those that are missing.  Nothing is done (and no root needed)
# when everything is already installed.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

# gcc's ASan/UBSan/LSan/TSan runtimes (libasan8, libubsan1, liblsan0,
# libtsan2) and <sanitizer/*.h> come with libgcc-12-dev, which
# build-essential pulls in through gcc-12, so they need no entry of
# their own.  python3 (for tools/check-layers.py) comes with meson, nm
# with binutils.  gnuplot-nox draws the benchmark chart
# (tools/bench-report.py).  gobject-introspection and
# libgirepository1.0-dev build Kaa-1.gir and its typelib, valac the VAPI
# (vapigen) and the Vala test, python3-gi runs tests/test-gi.py.
# libgtk-4-dev builds the GTK demo (examples/gtk-demo.c), whose test runs
# it under xvfb-run, which needs xauth.
# abigail-tools (abidw, abidiff) compares the ABI with its baseline
# (tools/check-abi.sh); gi-docgen builds the API reference, whose links
# tools/check-doc-links.py checks.
# clang and its runtime package, which holds libFuzzer and clang's
# sanitizers, build the fuzz target (issue #7).
# libsysprof-4-dev holds sysprof-capture-4, for the Sysprof marks (issue
# 19; meson option sysprof, auto).
# libsoup-3.0-dev and libsqlite3-dev, with GTK 4, build the download
# manager example (examples/fetcher/, issue 23; meson option fetcher,
# auto).
packages=(
  abigail-tools
  build-essential
  clang
  gettext
  gi-docgen
  gnuplot-nox
  gobject-introspection
  libgirepository1.0-dev
  libclang-rt-14-dev
  libglib2.0-dev
  libgtk-4-dev
  libsoup-3.0-dev
  libsqlite3-dev
  libsysprof-4-dev
  meson
  ninja-build
  pkg-config
  python3-gi
  valac
  valgrind
  xauth
  xvfb
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "deps: missing packages and no root or sudo; as root, run:" >&2
  echo "  apt-get update && apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
