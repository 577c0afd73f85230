#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   A finding makes the script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROAM_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)"

failed=0
ran=0
for bin in build-fuzz/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus=fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  ran=$((ran + 1))
  if "$bin" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$work" >"$work.log" 2>&1; then
    execs=$(grep -E "^stat::number_of_executed_units" "$work.log" | awk '{print $2}')
    echo "fuzz: $name ran ${seconds}s, ${execs:-?} inputs, no finding"
  else
    echo "fuzz: $name FOUND A PROBLEM; log follows"
    tail -n 60 "$work.log"
    failed=$((failed + 1))
  fi
  rm -rf "$work" "$work.log"
done
echo "fuzz: $((ran - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
