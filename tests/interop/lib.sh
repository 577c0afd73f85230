# Shared helpers for the interop test scripts (sourced, not run).
# Each script sets $work (a temp directory) and registers background processes with `track PID`;
# everything tracked is stopped on exit.

pids=()
track() { pids+=("$1"); }
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null
  done
  if [ -n "${keep_work:-}" ]; then
    echo "work files kept in $work"
  else
    rm -rf "$work"
  fi
}

# wait_for_line FILE REGEX SECONDS: polls until a line of FILE matches; prints the first match.
wait_for_line() {
  local file=$1 re=$2 limit=$3 i
  for ((i = 0; i < limit * 20; i++)); do
    if [ -f "$file" ] && grep -E -m1 -- "$re" "$file"; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# port_of_listening_line: reads "listening on ADDR:PORT ..." on stdin and prints PORT.
port_of_listening_line() { sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/'; }

# result STATUS PEER DIRECTION CASE DETAIL: one machine-readable line on stdout, and a copy in
# $INTEROP_RESULTS_DIR (when set) from which docs/interop.md's table is written.
result() {
  local line="RESULT|$1|$2|$3|$4|$5"
  echo "$line"
  if [ -n "${INTEROP_RESULTS_DIR:-}" ]; then
    mkdir -p "$INTEROP_RESULTS_DIR"
    local name
    name=$(echo "$2-$3-$4" | tr -c 'A-Za-z0-9.-' '_')
    echo "$line" >"$INTEROP_RESULTS_DIR/$name.txt"
  fi
}

show_log() {  # show_log TITLE FILE
  echo "---- $1 ----"
  cat "$2" 2>/dev/null
  echo "---- end $1 ----"
}
