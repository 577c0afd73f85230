#!/usr/bin/env bash
# Builds roam and runs every test: unit and scenario tests (ctest), then each fuzz target briefly.
# Usage: scripts/test.sh            (FUZZ_SECONDS=N to change the per-target fuzz time, 0 to skip)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROAM_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

if [ "${FUZZ_SECONDS:-20}" != 0 ]; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
