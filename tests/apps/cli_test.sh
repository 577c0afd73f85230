#!/usr/bin/env bash
# End-to-end over real loopback sockets: roam-server and roam-client as a user runs them.
# Checks a verified perf download, echo, and the one-line errors and exit codes (2: usage,
# 1: failure) for user mistakes. HTTP/0.9 file serving is in hq_test.sh.
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
# Only the raw-stream protocols, so that the client's default (h3) meets a server without it.
"$bin/roam-server" --listen "127.0.0.1:$port" --quiet --alpn perf,echo,quic-echo &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
sleep 0.3

check "perf 20 MB verified" 0 timeout 60 "$bin/roam-client" "127.0.0.1:$port" --insecure --perf 20000000
echo "$out" | grep -q "received 20.0 MB .* all bytes verified" || { echo "FAIL perf summary: $out"; fail=1; }
check "perf 0 bytes" 0 timeout 20 "$bin/roam-client" "127.0.0.1:$port" --insecure --perf 0
check "echo" 0 timeout 20 "$bin/roam-client" "127.0.0.1:$port" --insecure --alpn echo --echo "roam echo check"
echo "$out" | grep -q "^echo: roam echo check" || { echo "FAIL echo text: $out"; fail=1; }
check "unknown ALPN" 2 "$bin/roam-client" "127.0.0.1:$port" --insecure --alpn nope
echo "$out" | grep -q "^error: unknown --alpn 'nope'" || { echo "FAIL unknown ALPN message: $out"; fail=1; }
# This server was started with --alpn perf,echo,quic-echo: it does not offer h3, the client's default.
check "ALPN the server does not offer" 1 timeout 20 "$bin/roam-client" "https://127.0.0.1:$port/x" --insecure
echo "$out" | grep -q "^error: 127.0.0.1:$port: .*application protocol" || { echo "FAIL wrong ALPN message: $out"; fail=1; }
[ "$(echo "$out" | wc -l)" -eq 1 ] || { echo "FAIL wrong ALPN: more than one line: $out"; fail=1; }
check "unverified certificate" 1 timeout 20 "$bin/roam-client" "127.0.0.1:$port" --perf 10
echo "$out" | grep -q "^error: " || { echo "FAIL certificate message: $out"; fail=1; }
check "bad address" 2 "$bin/roam-client" "not-an-address" --insecure
check "bad URL scheme" 2 "$bin/roam-client" "http://127.0.0.1:$port/x"
echo "$out" | grep -q "^error: bad URL 'http://127.0.0.1:$port/x': unsupported scheme" || { echo "FAIL scheme message: $out"; fail=1; }
check "-o FILE with two URLs" 2 "$bin/roam-client" -o f "https://127.0.0.1:$port/a" "https://127.0.0.1:$port/b"
check "--perf with --alpn echo" 2 "$bin/roam-client" "127.0.0.1:$port" --perf 10 --alpn echo
check "unresolvable host" 1 timeout 20 "$bin/roam-client" "https://no-such-host.invalid/x" --insecure
echo "$out" | grep -q "^error: cannot resolve 'no-such-host.invalid'" || { echo "FAIL resolve message: $out"; fail=1; }
check "nobody listening" 1 timeout 20 "$bin/roam-client" "127.0.0.1:1" --insecure --perf 10 --timeout 2
echo "$out" | grep -q "^error: no answer from 127.0.0.1:1 within 2 s" || { echo "FAIL unreachable message: $out"; fail=1; }
qdir=$(mktemp -d)
check "perf with --qlog-dir" 0 timeout 20 "$bin/roam-client" "127.0.0.1:$port" --insecure --perf 100000 --qlog-dir "$qdir"
qfile=$(ls "$qdir"/*_client.sqlog 2>/dev/null | head -n 1)
if [ -z "$qfile" ]; then
  echo "FAIL qlog: no client qlog file in $qdir"; fail=1
elif ! { [ "$(head -c 1 "$qfile" | od -An -tx1 | tr -d ' ')" = "1e" ] && grep -q '"name":"quic:packet_received"' "$qfile" &&
         grep -q '"frame_type":"stream"' "$qfile" && grep -q '"name":"quic:connection_closed"' "$qfile"; }; then
  echo "FAIL qlog: $qfile lacks the expected JSON-SEQ records"; fail=1
else
  echo "ok   qlog file $(basename "$qfile") ($(wc -l < "$qfile") records)"
fi
rm -rf "$qdir"
check "server bad listen" 2 "$bin/roam-server" --listen "nowhere"
check "server port in use" 1 timeout 5 "$bin/roam-server" --listen "127.0.0.1:$port"
check "server unknown ALPN" 2 "$bin/roam-server" --listen 127.0.0.1:0 --alpn h2
echo "$out" | grep -q "^error: --alpn: roam-server does not speak 'h2'" || { echo "FAIL server ALPN message: $out"; fail=1; }
check "--head without h3" 2 "$bin/roam-client" "127.0.0.1:$port" --perf 10 --head
check "server --root not a directory" 2 "$bin/roam-server" --listen 127.0.0.1:0 --root /nonexistent-dir
exit $fail
