#!/usr/bin/env bash
# Prints the interop results of the last `ctest -L interop` run as a Markdown table:
#   tests/interop/results_table.sh BUILD_DIR
# Each test leaves one line "RESULT|PASS or FAIL|peer|direction|case|detail" in
# BUILD_DIR/interop-results/ (written by lib.sh's `result`).
set -u
dir=${1:?usage: results_table.sh BUILD_DIR}/interop-results
if ! ls "$dir"/*.txt >/dev/null 2>&1; then
  echo "no results in $dir: run ctest -L interop first" >&2
  exit 1
fi
echo "| peer | direction | case | result | detail |"
echo "|---|---|---|---|---|"
cat "$dir"/*.txt | sort -t'|' -k3,3 -k4,4 -k5,5 |
  awk -F'|' '{ d = $6; for (i = 7; i <= NF; i++) d = d "\\|" $i;
               printf "| %s | %s | %s | %s | %s |\n", $3, $4, $5, ($2 == "PASS" ? "pass" : "**FAIL**"), d }'
