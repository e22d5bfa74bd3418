#!/usr/bin/env bash
# check-abi-symbols.sh LIBPATH: fails if the shared library exports a
# symbol whose name does not start with kaa_.
#
# STYLE.md section 3: the library builds with hidden visibility and only
# KAA_EXTERN symbols are exported, all of them kaa_-prefixed.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 LIBPATH" >&2
  exit 2
fi
lib=$1
if [[ ! -f $lib ]]; then
  echo "$lib: no such file" >&2
  exit 2
fi

# "nm -D --defined-only" prints "ADDRESS TYPE NAME" for every defined
# dynamic symbol.  Type A (absolute) carries only version-node names;
# the names skipped below are the ones the linker adds to every library.
symbols=$(nm -D --defined-only "$lib")

total=0
bad=()
while read -r _ type name; do
  [[ -n $name ]] || continue
  name=${name%%@*}
  case $type in
    A) continue ;;
  esac
  case $name in
    _init|_fini|__bss_start|_edata|_end|__end__|_DYNAMIC|_GLOBAL_OFFSET_TABLE_) continue ;;
  esac
  total=$((total + 1))
  if [[ $name != kaa_* ]]; then
    bad+=("$type $name")
  fi
done <<< "$symbols"

if [[ ${#bad[@]} -gt 0 ]]; then
  echo "FAIL: $lib exports ${#bad[@]} of $total symbols without the kaa_ prefix:"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
if [[ $total -eq 0 ]]; then
  echo "FAIL: $lib exports no symbol at all"
  exit 1
fi
echo "ok: $total exported symbols, all kaa_"
