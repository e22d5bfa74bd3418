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
exec _build/examples/kaa-demo
