#!/usr/bin/env bash
# Builds roam and runs every test: unit, scenario, apps and interop tests (ctest), then each fuzz
# target briefly. Ends with one line "total: N passed, M failed".
# Usage: scripts/test.sh            (FUZZ_SECONDS=N to change the per-target fuzz time, 0 to skip)
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || exit 1
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROAM_WERROR=ON >/dev/null || exit 1
cmake --build build -j "$jobs" || exit 1

log=$(mktemp)
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600 | tee "$log"
ctest_rc=${PIPESTATUS[0]}
summary=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -n 1)
rm -f "$log"
total=$(echo "$summary" | sed -E 's/.* out of ([0-9]+).*/\1/')
failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
[ -n "$total" ] || { echo "error: ctest printed no summary"; exit 1; }
passed=$((total - failed))

fuzz_passed=0 fuzz_failed=0
if [ "${FUZZ_SECONDS:-20}" != 0 ]; then
  fuzz_log=$(mktemp)
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}" 2>&1 | tee "$fuzz_log"
  fuzz_out=$(grep -E "^fuzz: [0-9]+ passed, [0-9]+ failed$" "$fuzz_log" | tail -n 1)
  rm -f "$fuzz_log"
  fuzz_passed=$(echo "$fuzz_out" | sed -E 's/fuzz: ([0-9]+) passed.*/\1/')
  fuzz_failed=$(echo "$fuzz_out" | sed -E 's/.* ([0-9]+) failed/\1/')
  [ -n "$fuzz_passed" ] || { fuzz_passed=0; fuzz_failed=1; }
fi

echo "total: $((passed + fuzz_passed)) passed, $((failed + fuzz_failed)) failed"
[ "$ctest_rc" -eq 0 ] && [ "$((failed + fuzz_failed))" -eq 0 ]
