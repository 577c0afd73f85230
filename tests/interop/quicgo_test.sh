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
#   roam-client-h3      roam-client -> quic-go http3 server: a 10 MB file and a small one over HTTP/3
#                       on one connection, byte-exact; a missing file is one "404 Not Found" line
#   quicgo-client-h3    quic-go http3 client -> roam-server --root: the same files fetched
#                       concurrently, byte-exact (sha256); HEAD; 404; 400; 405; roam-server logs
#                       h3 requests
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

# HTTP/3 cases serve this tree: 10 MB of random bytes and a small text file.
make_h3_root() {
  mkdir -p "$work/root" "$work/dl"
  head -c 10485760 /dev/urandom >"$work/root/file10m"
  printf 'a small file served next to the big one\n' >"$work/root/small.txt"
}
sha() { sha256sum <"$1" | cut -d' ' -f1; }

start_quicgo_h3_server() {  # sets $port
  "$peer" h3-server -listen 127.0.0.1:0 -cert-out "$work/quicgo-cert.pem" -root "$work/root" >"$work/server.log" 2>&1 &
  track $!
  local line
  if ! line=$(wait_for_line "$work/server.log" '^listening on ' 10); then
    show_log "quic-go http3 server" "$work/server.log"
    result FAIL quic-go "roam client -> quic-go server" "$case_name" "quic-go http3 server did not start"
    exit 1
  fi
  port=$(echo "$line" | port_of_listening_line)
  echo "quic-go http3 server: $line"
}

start_roam_server() {  # start_roam_server [extra flags]: sets $port
  "$bin/roam-server" --listen 127.0.0.1:0 "$@" >"$work/server.log" 2>&1 &
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
  roam-client-h3)
    direction="roam client -> quic-go server"
    make_h3_root
    start_quicgo_h3_server
    run_client 60 "$bin/roam-client" --ca "$work/quicgo-cert.pem" --download "$work/dl" --timeout 20 \
      "https://127.0.0.1:$port/file10m" "https://127.0.0.1:$port/small.txt"
    check "roam-client exits 0" [ "$client_rc" -eq 0 ]
    check "10 MB file byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "small file byte-exact" cmp -s "$work/dl/small.txt" "$work/root/small.txt"
    check "quic-go served both over HTTP/3" server_says "^request HTTP/3.0 GET /file10m 200 10485760\$"
    summary="10 MB + small file byte-exact over h3 ($(grep -m1 -E '^received' "$work/client.log" | sed -E 's/, goodput.*//'))"
    run_client 20 "$bin/roam-client" --ca "$work/quicgo-cert.pem" -o - --timeout 10 "https://127.0.0.1:$port/nope"
    check "missing file: exit 1, one line '404 Not Found'" \
      [ "$client_rc" -eq 1 ] && [ "$(cat "$work/client.log")" = "error: https://127.0.0.1:$port/nope: 404 Not Found" ]
    summary="$summary; 404 reported as one line, exit 1"
    ;;
  quicgo-client-h3)
    direction="quic-go client -> roam server"
    make_h3_root
    start_roam_server --root "$work/root" --log-requests
    run_client 60 "$peer" h3-client -out "$work/dl" -timeout 50s "https://127.0.0.1:$port/file10m" \
      "https://127.0.0.1:$port/small.txt"
    check "quic-go client exits 0" [ "$client_rc" -eq 0 ]
    check "quic-go client: 10 MB over HTTP/3, sha256 matches" \
      client_said "^https://127.0.0.1:$port/file10m: HTTP/3.0 200, 10485760 bytes, sha256 $(sha "$work/root/file10m"), content-length 10485760"
    check "10 MB file saved byte-exact" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "small file byte-exact" cmp -s "$work/dl/small.txt" "$work/root/small.txt"
    check "roam-server logged both h3 requests" server_says '^request 127\.0\.0\.1:[0-9]+ h3 GET /small\.txt 200 '
    check "roam-server logged the 10 MB request" server_says '^request 127\.0\.0\.1:[0-9]+ h3 GET /file10m 200 10485760$'
    summary="10 MB + small file byte-exact over h3 (quic-go http3 client, concurrent requests)"
    run_client 20 "$peer" h3-client -method HEAD "https://127.0.0.1:$port/file10m"
    check "HEAD: 200, no body, content-length 10485760" \
      client_said "^https://127.0.0.1:$port/file10m: HTTP/3.0 200, 0 bytes, .*content-length 10485760, content-type application/octet-stream"
    run_client 20 "$peer" h3-client "https://127.0.0.1:$port/nope" "https://127.0.0.1:$port/../root/small.txt"
    check "missing file: 404" client_said "^https://127.0.0.1:$port/nope: HTTP/3.0 404, "
    check "roam-server logged the 404" server_says '^request 127\.0\.0\.1:[0-9]+ h3 GET /nope 404 '
    check "a path climbing out of --root: 400" client_said "^https://127.0.0.1:$port/../root/small.txt: HTTP/3.0 400, "
    run_client 20 "$peer" h3-client -method POST "https://127.0.0.1:$port/small.txt"
    check "POST: 405" client_said "^https://127.0.0.1:$port/small.txt: HTTP/3.0 405, "
    check "roam-server logged the 405" server_says '^request 127\.0\.0\.1:[0-9]+ h3 POST /small\.txt 405 '
    summary="$summary; HEAD, 404, 400 (a '..' path) and 405 (POST) as expected"
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
[ -z "${summary:-}" ] && summary=$(grep -m1 -E '^received' "$work/client.log" | cut -c1-120)
if [ -z "$summary" ]; then
  summary="4000-byte text echoed in $(sed -n -E 's/^echo: .* \(([0-9.]+ ms)\)$/\1/p' "$work/client.log")"
fi
result PASS quic-go "$direction" "$case_name" "$summary"
exit 0
