#!/usr/bin/env bash
# Builds libkaa and runs the demo: the README's first command. Installs
# the missing Debian packages first and configures _build when needed.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/deps.sh
if [[ ! -f _build/meson-private/coredata.dat ]]; then
  meson setup _build
fi
meson compile -C _build
_build/examples/kaa-demo

# Then the seed programs (examples/seeds/) at half their time, about nine
# seconds in all; the long ones draw a progress bar on a terminal.
for seed in simple advanced do-something coiterate tail-call; do
  echo
  echo "== examples/seeds/$seed.c"
  KAA_EXAMPLE_SCALE=0.5 "_build/examples/seeds/seed-$seed"
done
