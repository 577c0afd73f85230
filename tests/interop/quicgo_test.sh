#!/usr/bin/env bash
# Interop between roam and quic-go over loopback: quicgo_test.sh CASE ROAM_BIN_DIR QUICGO_PEER
# CASE is one of:
#   roam-client-perf    roam-client -> quic-go server: 10 MB perf download, verified by roam-client,
#                       quic-go server reports 10000000 bytes sent and roam's application close
#   quicgo-client-perf  quic-go client -> roam-server: 10 MB perf download, verified by quic-go,
#                       roam-server reports 1 request and 10000000 bytes sent
#   roam-client-echo    roam-client -> quic-go server: echo of a 4000-byte text
#   quicgo-client-echo  quic-go client -> roam-server: echo of a 4000-byte text
#   roam-client-retry   roam-client -> quic-go server that sends Retry: 1 MB perf download
# Servers listen on 127.0.0.1 port 0 (a free port chosen by the kernel) and print it.
set -u
case_name=$1
bin=$2
peer=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
work=$(mktemp -d /tmp/roam-interop.XXXXXX)
trap cleanup EXIT
fail=0
check() {  # check DESCRIPTION COMMAND...: runs a predicate, reports it
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
  else
    echo "FAIL $what"
    fail=1
  fi
}

# A 4000-byte echo text (several packets' worth), printable and position-dependent.
echo_text=$(for i in $(seq 0 399); do printf '%09d|' "$i"; done)

start_quicgo_server() {  # start_quicgo_server [extra flags]: sets $port
  "$peer" server -listen 127.0.0.1:0 -cert-out "$work/quicgo-cert.pem" "$@" >"$work/server.log" 2>&1 &
  track $!
  local line
  if ! line=$(wait_for_line "$work/server.log" '^listening on ' 10); then
    show_log "quic-go server" "$work/server.log"
    result FAIL quic-go "roam client -> quic-go server" "$case_name" "quic-go server did not start"
    exit 1
  fi
  port=$(echo "$line" | port_of_listening_line)
  echo "quic-go server: $line"
}

start_roam_server() {  # sets $port
  "$bin/roam-server" --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
  track $!
  local line
  if ! line=$(wait_for_line "$work/server.log" '^roam-server listening on ' 10); then
    show_log "roam-server" "$work/server.log"
    result FAIL quic-go "quic-go client -> roam server" "$case_name" "roam-server did not start"
    exit 1
  fi
  port=$(echo "$line" | port_of_listening_line)
  echo "roam-server: $line"
}

run_client() {  # run_client LIMIT_SECONDS COMMAND...: output in $work/client.log, exit code in $client_rc
  local limit=$1
  shift
  timeout "$limit" "$@" >"$work/client.log" 2>&1
  client_rc=$?
  echo "client exit code $client_rc: $(tail -n 3 "$work/client.log")"
}

# roam-server names the connection by the client's address: 127.0.0.1 and the quic-go client's
# port (quic-go dials from a dual-stack [::]:PORT socket, so only its port is known locally).
check_peer_address() {
  local p
  p=$(sed -n -E 's/^connected from .*:([0-9]+) to .*/\1/p' "$work/client.log")
  check "roam-server reports the client's address 127.0.0.1:${p:-?}" \
    server_says "^connection from 127\\.0\\.0\\.1:${p:-none} closed: " 1
}

client_said() { grep -E -q -- "$1" "$work/client.log"; }
server_says() { wait_for_line "$work/server.log" "$1" "${2:-5}" >/dev/null; }

case $case_name in
  roam-client-perf | roam-client-retry)
    direction="roam client -> quic-go server"
    if [ "$case_name" = roam-client-retry ]; then
      n=1000000
      start_quicgo_server -retry
    else
      n=10000000
      start_quicgo_server
    fi
    # The quic-go server's own certificate is the trust anchor: roam verifies it (no --insecure).
    limit=50
    [ "$case_name" = roam-client-retry ] && limit=20  # 1 MB: a working Retry takes well under 1 s
    run_client 60 "$bin/roam-client" "127.0.0.1:$port" --ca "$work/quicgo-cert.pem" --perf "$n" --timeout "$limit"
    check "roam-client exits 0" [ "$client_rc" -eq 0 ]
    mb=$(awk -v n="$n" 'BEGIN { printf "%.1f", n / 1e6 }')
    check "roam-client verified $mb MB" client_said "^received $mb MB in .* all bytes verified"
    check "quic-go server sent $n bytes and FIN" server_says "^stream [0-9]+ \\(perf\\): sent $n bytes and FIN"
    check "quic-go server saw roam's application close (code 0)" \
      server_says "closed by peer: application error 0 .*, $n bytes sent"
    ;;
  quicgo-client-perf)
    direction="quic-go client -> roam server"
    n=10000000
    start_roam_server
    run_client 60 "$peer" client -addr "127.0.0.1:$port" -alpn perf -perf "$n" -timeout 50s
    check "quic-go client exits 0" [ "$client_rc" -eq 0 ]
    check "quic-go client verified $n bytes" client_said "^received $n bytes in .* all bytes verified"
    check "roam-server reports 1 request, $n bytes sent" server_says "closed: 1 requests, $n bytes sent"
    check_peer_address
    ;;
  roam-client-echo)
    direction="roam client -> quic-go server"
    start_quicgo_server
    run_client 30 "$bin/roam-client" "127.0.0.1:$port" --ca "$work/quicgo-cert.pem" --alpn echo \
      --echo "$echo_text" --timeout 20
    check "roam-client exits 0" [ "$client_rc" -eq 0 ]
    check "roam-client got the 4000-byte text back" grep -q -F -x -- "echo: $echo_text" \
      <(sed -E 's/ \([0-9.]+ ms\)$//' "$work/client.log")
    check "quic-go server echoed 4000 bytes and FIN" server_says "^stream [0-9]+ \\(echo\\): sent 4000 bytes and FIN"
    ;;
  quicgo-client-echo)
    direction="quic-go client -> roam server"
    start_roam_server
    run_client 30 "$peer" client -addr "127.0.0.1:$port" -alpn echo -echo "$echo_text" -timeout 20s
    check "quic-go client exits 0" [ "$client_rc" -eq 0 ]
    check "quic-go client got the 4000-byte text back" grep -q -F -x -- "echo: $echo_text" \
      <(sed -E 's/ \([0-9.]+ ms\)$//' "$work/client.log")
    check "roam-server reports 1 request, 4000 bytes sent" server_says "closed: 1 requests, 4000 bytes sent"
    check_peer_address
    ;;
  *)
    echo "unknown case '$case_name'"
    exit 2
    ;;
esac

if [ "$fail" -ne 0 ]; then
  show_log "client" "$work/client.log"
  show_log "server" "$work/server.log"
  keep_work=1
  detail=$(grep -m1 -E '^error' "$work/client.log" | cut -c1-160)
  result FAIL quic-go "$direction" "$case_name" "${detail:-see test log}"
  exit 1
fi
summary=$(grep -m1 -E '^received' "$work/client.log" | cut -c1-120)
if [ -z "$summary" ]; then
  summary="4000-byte text echoed in $(sed -n -E 's/^echo: .* \(([0-9.]+ ms)\)$/\1/p' "$work/client.log")"
fi
result PASS quic-go "$direction" "$case_name" "$summary"
exit 0
