#!/usr/bin/env bash
# Handover stall on real sockets (roam issue 4 benchmark, not a test): roam-client downloads over
# loopback and migrates 127.0.0.1 -> 127.0.0.2 mid-transfer, both styles, ROUNDS times each; the
# stall is read from the client's qlog by handover_stall.py (see there for the definitions).
#   bench/handover_stall.sh [BUILD_DIR] [ROUNDS]
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
rounds=${2:-5}
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
"$build/apps/roam-server" --listen "127.0.0.1:$port" --quiet &
server=$!
sleep 0.5
for style in probe-then-switch switch-now; do
  extra=()
  [ $style = switch-now ] && extra=(--migrate-now)
  for r in $(seq "$rounds"); do
    rm -rf "$work/q"
    if ! timeout 60 "$build/apps/roam-client" --insecure -q --perf 400000000 --bind 127.0.0.1:0 --migrate-after 150ms \
      --migrate-to 127.0.0.2:0 "${extra[@]}" --qlog-dir "$work/q" "127.0.0.1:$port" >/dev/null 2>"$work/err"; then
      echo "$style round $r: client failed: $(cat "$work/err")"
      continue
    fi
    echo "$style round $r: $(python3 "$here/handover_stall.py" "$work"/q/*.sqlog 2>&1)"
  done
done
