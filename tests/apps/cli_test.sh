#!/usr/bin/env bash
# End-to-end over real loopback sockets: roam-server and roam-client as a user runs them.
# Checks a verified perf download, echo, and the one-line errors for user mistakes.
set -u
bin=$1
fail=0
check() {  # check NAME EXPECTED_RC COMMAND... ; output in $out
  local name=$1 want=$2
  shift 2
  out=$("$@" 2>&1)
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL $name: exit $rc, wanted $want; output: $out"
    fail=1
  else
    echo "ok   $name"
  fi
}

port=$((20000 + RANDOM % 20000))
"$bin/roam-server" --listen "127.0.0.1:$port" --quiet &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
sleep 0.3

check "perf 20 MB verified" 0 timeout 60 "$bin/roam-client" "127.0.0.1:$port" --insecure --perf 20000000
echo "$out" | grep -q "received 20.0 MB .* all bytes verified" || { echo "FAIL perf summary: $out"; fail=1; }
check "perf 0 bytes" 0 timeout 20 "$bin/roam-client" "127.0.0.1:$port" --insecure --perf 0
check "echo" 0 timeout 20 "$bin/roam-client" "127.0.0.1:$port" --insecure --alpn echo --echo "roam echo check"
echo "$out" | grep -q "^echo: roam echo check" || { echo "FAIL echo text: $out"; fail=1; }
check "wrong ALPN" 1 timeout 20 "$bin/roam-client" "127.0.0.1:$port" --insecure --alpn nope
echo "$out" | grep -q "^error: .*" || { echo "FAIL wrong ALPN message: $out"; fail=1; }
check "unverified certificate" 1 timeout 20 "$bin/roam-client" "127.0.0.1:$port" --perf 10
echo "$out" | grep -q "^error: " || { echo "FAIL certificate message: $out"; fail=1; }
check "bad address" 2 "$bin/roam-client" "not-an-address" --insecure
check "nobody listening" 1 timeout 20 "$bin/roam-client" "127.0.0.1:1" --insecure --timeout 2
echo "$out" | grep -q "^error: " || { echo "FAIL unreachable message: $out"; fail=1; }
check "server bad listen" 2 "$bin/roam-server" --listen "nowhere"
check "server port in use" 1 timeout 5 "$bin/roam-server" --listen "127.0.0.1:$port"
exit $fail
