#!/usr/bin/env bash
# check-abi-symbols.sh LIBPATH: fails if the shared library exports a
# symbol whose name does not start with kaa_, or one without a KAA_
# version node of the linker version script (kaa/libkaa-1.map).
#
# STYLE.md section 3: the library builds with hidden visibility and only
# KAA_EXTERN symbols are exported, all of them kaa_-prefixed; the
# version script puts each under a version node (issue #22).
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
unversioned=()
while read -r _ type name; do
  [[ -n $name ]] || continue
  version=
  [[ $name == *@* ]] && version=${name##*@}
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
  if [[ $version != KAA_* ]]; then
    unversioned+=("$type $name ${version:-(no version)}")
  fi
done <<< "$symbols"

if [[ ${#unversioned[@]} -gt 0 ]]; then
  echo "FAIL: $lib exports ${#unversioned[@]} of $total symbols outside a KAA_ version node:"
  printf '  %s\n' "${unversioned[@]}"
  exit 1
fi

if [[ ${#bad[@]} -gt 0 ]]; then
  echo "FAIL: $lib exports ${#bad[@]} of $total symbols without the kaa_ prefix:"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
if [[ $total -eq 0 ]]; then
  echo "FAIL: $lib exports no symbol at all"
  exit 1
fi
echo "ok: $total exported symbols, all kaa_, all under a KAA_ version node"
