#!/usr/bin/env bash
# Prints the interop results of the last `ctest -L interop` run as a Markdown table:
#   tests/interop/results_table.sh BUILD_DIR                 # the table on stdout
#   tests/interop/results_table.sh BUILD_DIR --write FILE    # replaces the table in FILE
# Each test leaves one line "RESULT|PASS or FAIL|peer|direction|case|detail" in
# BUILD_DIR/interop-results/ (written by lib.sh's `result`). With --write, the table goes between
# the lines "<!-- interop-results:begin -->" and "<!-- interop-results:end -->" of FILE (docs/
# interop.md), preceded by one line naming the commit and the tool versions it was run with.
set -u
build=${1:?usage: results_table.sh BUILD_DIR [--write FILE]}
dir=$build/interop-results
if ! ls "$dir"/*.txt >/dev/null 2>&1; then
  echo "no results in $dir: run ctest -L interop first" >&2
  exit 1
fi

table() {
  echo "| peer | direction | case | result | detail |"
  echo "|---|---|---|---|---|"
  cat "$dir"/*.txt | sort -t'|' -k3,3 -k4,4 -k5,5 |
    awk -F'|' '{ d = $6; for (i = 7; i <= NF; i++) d = d "\\|" $i;
                 printf "| %s | %s | %s | %s | %s |\n", $3, $4, $5, ($2 == "PASS" ? "pass" : "**FAIL**"), d }'
}

# The versions the table was produced with, as far as the tools tell.
provenance() {
  local here commit versions=()
  here=$(cd "$(dirname "$0")" && pwd)
  commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if git -C "$here" diff --quiet HEAD -- 2>/dev/null; then :; else commit="$commit + local changes"; fi
  command -v go >/dev/null && versions+=("$(go version 2>/dev/null | awk '{print $3}')")
  local v
  v=$(dpkg-query -W -f '${Version}' golang-github-lucas-clemente-quic-go-dev 2>/dev/null) && [ -n "$v" ] && versions+=("quic-go $v")
  v=$(dpkg-query -W -f '${Version}' ngtcp2-client 2>/dev/null) && [ -n "$v" ] && versions+=("ngtcp2 $v")
  v=$(dpkg-query -W -f '${Version}' libnghttp3-dev 2>/dev/null) && [ -n "$v" ] && versions+=("nghttp3 $v")
  v=$(dpkg-query -W -f '${Version}' chromium 2>/dev/null) && [ -n "$v" ] && versions+=("chromium $v")
  command -v tshark >/dev/null && versions+=("$(tshark --version 2>/dev/null | head -n 1 | awk '{print "tshark " $3}')")
  local joined
  joined=$(printf '%s, ' "${versions[@]}")
  echo "Run on loopback at commit $commit, $(date -u +%Y-%m-%d); ${joined%, }."
}

if [ "${2:-}" != "--write" ]; then
  table
  exit 0
fi
file=${3:?--write needs a FILE}
begin='<!-- interop-results:begin -->'
end='<!-- interop-results:end -->'
if ! grep -q -F -x -- "$begin" "$file" || ! grep -q -F -x -- "$end" "$file"; then
  echo "$file has no '$begin' / '$end' lines to put the table between" >&2
  exit 1
fi
block=$(mktemp)
trap 'rm -f "$block"' EXIT
{
  provenance
  echo
  table
} >"$block"
tmp=$(mktemp "$file.XXXXXX")
awk -v begin="$begin" -v end="$end" -v block="$block" '
  $0 == begin { print; while ((getline line < block) > 0) print line; skip = 1; next }
  $0 == end { skip = 0 }
  !skip { print }' "$file" >"$tmp" && mv "$tmp" "$file"
echo "wrote the interop table ($(ls "$dir"/*.txt | wc -l) results) into $file"
