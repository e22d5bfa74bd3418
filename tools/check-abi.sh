#!/usr/bin/env bash
# The ABI check (issue #22): compares the built libkaa-1.so with the
# baseline recorded for this release, abi/libkaa-1.<arch>.abi, with
# libabigail's abidiff, over the types of the public headers only.
#
#   check-abi.sh BUILD_DIR SOURCE_DIR SANITIZE              compare
#   check-abi.sh --self-test BUILD_DIR SOURCE_DIR SANITIZE  a baseline
#       doctored to hold a function the library lacks must be refused
#   check-abi.sh --update BUILD_DIR SOURCE_DIR SANITIZE     record anew
#
# An incompatible change (a removed or changed function, a changed public
# type: abidiff's bit 8) fails; a compatible one (an added function)
# passes and is listed. To accept an intended incompatible change, bump
# soversion in meson.build (README, "A stable ABI"), rebuild, and record
# the new baseline with --update; commit both together.
#
# It is skipped (77) under a sanitizer, without abidiff, without debug
# information, for a static build, and on an architecture that has no
# baseline.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

mode=compare
case ${1-} in
  --update) mode=update; shift ;;
  --self-test) mode=self-test; shift ;;
esac
if [[ $# -ne 3 ]]; then
  echo "usage: $0 [--update|--self-test] BUILD_DIR SOURCE_DIR SANITIZE" >&2
  exit 2
fi
build_dir=$1
source_dir=$2
sanitize=$3

lib=$build_dir/kaa/libkaa-1.so
headers=$build_dir/kaa/include/kaa
baseline=$source_dir/abi/libkaa-1.$(uname -m).abi

skip () { echo "skipped: $*"; exit 77; }
[[ $sanitize == none ]] || skip "a -fsanitize=$sanitize build"
command -v abidiff > /dev/null || skip "no abidiff (Debian: abigail-tools)"
[[ -f $lib ]] || skip "no shared library $lib (a static build?)"
readelf -S "$lib" | grep -q '\.debug_info' || skip "$lib has no debug information"

if [[ $mode == update ]]; then
  abidw --headers-dir "$headers" --drop-private-types --no-corpus-path --no-show-locs \
    --out-file "$baseline" "$lib"
  echo "recorded $baseline"
  exit 0
fi
[[ -f $baseline ]] || skip "no baseline $baseline for $(uname -m)"

# abidiff's status is a bit set: 1 an error, 2 a usage error, 4 an ABI
# change, 8 an incompatible one.
compare ()
{
  local status=0
  abidiff --headers-dir2 "$headers" --drop-private-types "$1" "$lib" || status=$?
  if (( status & 3 )); then
    echo "FAIL: abidiff could not compare (status $status)"
    exit 1
  fi
  return $status
}

if [[ $mode == self-test ]]; then
  doctored=$(mktemp)
  trap 'rm -f "$doctored"' EXIT
  # kaa_all_success renamed in the baseline: the library "lost" it.
  sed 's/kaa_all_success/kaa_all_success_gone/g' "$baseline" > "$doctored"
  status=0
  compare "$doctored" > /dev/null || status=$?
  if (( status & 8 )); then
    echo "ok: a removed function is an incompatible change"
    exit 0
  fi
  echo "FAIL: abidiff accepted a baseline with a function the library lacks (status $status)"
  exit 1
fi

status=0
compare "$baseline" || status=$?
if (( status & 8 )); then
  echo "FAIL: $lib breaks the ABI of $baseline (above)."
  echo "If this is intended: bump soversion in meson.build, then record the"
  echo "new baseline with: bash tools/check-abi.sh --update $build_dir $source_dir none"
  exit 1
fi
if (( status & 4 )); then
  echo "ok: compatible changes only (above)"
else
  echo "ok: the ABI of $baseline, unchanged"
fi
