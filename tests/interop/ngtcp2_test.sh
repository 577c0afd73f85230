#!/usr/bin/env bash
# Interop between roam and ngtcp2 0.12's example programs (Debian ngtcp2-client / ngtcp2-server:
# gtlsclient and gtlsserver, HTTP/3 over nghttp3) on loopback:
#   ngtcp2_test.sh CASE ROAM_BIN_DIR GTLSCLIENT GTLSSERVER OPENSSL
# CASE is one of:
#   gtlsclient-h3-download  gtlsclient -> roam-server --root: a 10 MB file and a small one on one
#                           connection, byte-exact (sha256); roam-server logs both h3 requests
#   gtlsclient-key-update   the same 10 MB download while gtlsclient initiates a 1-RTT key update
#                           (--key-update); roam-server reports its keys at generation >= 1
#   roam-client-h3-download roam-client -> gtlsserver --htdocs (certificate made with openssl for
#                           this run, verified by roam-client with --ca): 10 MB byte-exact, and a
#                           missing file gives one "404 Not Found" line and exit 1
#   gtlsclient-migration    gtlsclient --change-local-addr mid-download: 10 MB byte-exact, roam-server
#                           prints "path changed ... (migration)"
#   gtlsclient-nat-rebinding gtlsclient --nat-rebinding (request sent from the new port): byte-exact,
#                           roam-server prints "(nat-rebinding)"
#   roam-client-migration   roam-client --migrate-after 20ms --migrate-to 127.0.0.2 against gtlsserver
#   roam-client-preferred-address  gtlsserver --preferred-ipv4-addr on 127.0.0.2: roam-client follows
#   roam-client-nat-rebinding  roam-client --rebind-after 20ms against gtlsserver: byte-exact
#   roam-client-key-update  roam-client --key-update-after 20ms against gtlsserver: byte-exact
#   gtlsclient-0rtt         gtlsclient resumes (--session-file, --tp-file) with a 0-RTT request
#   roam-client-0rtt        roam-client --session-file resumes with gtlsserver, request in 0-RTT
# Servers listen on 127.0.0.1 (roam-server on a port the kernel picks; gtlsserver on a free port
# found first, as it cannot report one).
set -u
case_name=$1
bin=$2
gtlsclient=$3
gtlsserver=$4
openssl=$5
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
work=$(mktemp -d /tmp/roam-ngtcp2.XXXXXX)
trap cleanup EXIT
fail=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
  else
    echo "FAIL $what"
    fail=1
  fi
}
sha() { sha256sum <"$1" | cut -d' ' -f1; }
server_says() { wait_for_line "$work/server.log" "$1" "${2:-5}" >/dev/null; }

# The served tree: 10 MB of random bytes and a small text file.
mkdir -p "$work/root" "$work/dl"
head -c 10485760 /dev/urandom >"$work/root/file10m"
printf 'a small file served next to the big one\n' >"$work/root/small.txt"

start_roam_server() {  # start_roam_server DIRECTION: sets $port
  "$bin/roam-server" --listen 127.0.0.1:0 --root "$work/root" --log-requests >"$work/server.log" 2>&1 &
  track $!
  local line
  if ! line=$(wait_for_line "$work/server.log" '^roam-server listening on ' 10); then
    show_log "roam-server" "$work/server.log"
    result FAIL ngtcp2 "$1" "$case_name" "roam-server did not start"
    exit 1
  fi
  port=$(echo "$line" | port_of_listening_line)
  echo "roam-server: $line"
}

# A UDP port nobody uses on 127.0.0.1 (gtlsserver takes its port on the command line).
free_udp_port() {
  python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_gtlsserver() {  # sets $port; certificate in $work/cert.pem
  "$openssl" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/key.pem" \
    -out "$work/cert.pem" -days 2 -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyCertSign" \
    -addext "extendedKeyUsage=serverAuth" >"$work/openssl.log" 2>&1 || {
    show_log openssl "$work/openssl.log"
    result FAIL ngtcp2 "roam client -> ngtcp2 server" "$case_name" "openssl could not make a certificate"
    exit 1
  }
  local attempt
  for attempt in 1 2 3; do
    port=$(free_udp_port)
    "$gtlsserver" -d "$work/root" 127.0.0.1 "$port" "$work/key.pem" "$work/cert.pem" --no-quic-dump --no-http-dump \
      ${gtlsserver_extra[@]+"${gtlsserver_extra[@]}"} \
      >"$work/server.log" 2>&1 &
    local pid=$!
    track $pid
    # gtlsserver prints nothing when ready: wait for its socket.
    local i
    for i in $(seq 1 50); do
      if ss -Hlun "sport = :$port" 2>/dev/null | grep -q "127.0.0.1:$port"; then
        echo "gtlsserver: listening on 127.0.0.1:$port"
        return 0
      fi
      kill -0 $pid 2>/dev/null || break
      sleep 0.1
    done
  done
  show_log gtlsserver "$work/server.log"
  result FAIL ngtcp2 "roam client -> ngtcp2 server" "$case_name" "gtlsserver did not start"
  exit 1
}

run_client() {  # run_client LIMIT_SECONDS COMMAND...: output in $work/client.log, exit code in $client_rc
  local limit=$1
  shift
  local t0 t1
  t0=$(date +%s.%N)
  timeout "$limit" "$@" >"$work/client.log" 2>&1
  client_rc=$?
  t1=$(date +%s.%N)
  elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  echo "client exit code $client_rc after $elapsed s: $(tail -n 3 "$work/client.log")"
}

detail=
gtlsserver_extra=()
case $case_name in
  gtlsclient-h3-download | gtlsclient-key-update)
    direction="ngtcp2 client -> roam server"
    start_roam_server "$direction"
    extra=()
    # 5 ms after the handshake: early in the transfer, so most of the 10 MB uses the new keys.
    [ "$case_name" = gtlsclient-key-update ] && extra=(--key-update=5ms)
    run_client 60 "$gtlsclient" -q --exit-on-all-streams-close --timeout=20s "${extra[@]}" --download "$work/dl" \
      127.0.0.1 "$port" "https://127.0.0.1:$port/file10m" "https://127.0.0.1:$port/small.txt"
    check "gtlsclient exits 0" [ "$client_rc" -eq 0 ]
    check "10 MB file byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "small file byte-exact" cmp -s "$work/dl/small.txt" "$work/root/small.txt"
    check "roam-server logged the 10 MB h3 request" \
      server_says '^request 127\.0\.0\.1:[0-9]+ h3 GET /file10m 200 10485760$'
    check "roam-server logged the small h3 request" server_says '^request 127\.0\.0\.1:[0-9]+ h3 GET /small\.txt 200 '
    total=$((10485760 + $(stat -c %s "$work/root/small.txt")))
    check "both requests on one connection" server_says "closed: 2 requests, $total bytes sent, .*\\(ALPN h3, 0 refused\\)"
    if [ "$case_name" = gtlsclient-key-update ]; then
      check "roam-server followed the key update" \
        server_says '^  key updates: 1-RTT keys at generation [1-9][0-9]* \(receiving\), [1-9][0-9]* \(sending\)'
      keys=$(grep -m1 -o 'generation [0-9]* (receiving)' "$work/server.log")
      detail="10 MB + small file byte-exact while gtlsclient updated the keys; roam-server ended at key $keys, in $elapsed s"
    else
      detail="10 MB + small file byte-exact (sha256) on one connection, both h3 requests in roam-server's log, in $elapsed s"
    fi
    ;;
  roam-client-h3-download)
    direction="roam client -> ngtcp2 server"
    start_gtlsserver
    run_client 60 "$bin/roam-client" --ca "$work/cert.pem" --download "$work/dl" --timeout 20 \
      "https://127.0.0.1:$port/file10m" "https://127.0.0.1:$port/small.txt"
    check "roam-client exits 0" [ "$client_rc" -eq 0 ]
    check "10 MB file byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "small file byte-exact" cmp -s "$work/dl/small.txt" "$work/root/small.txt"
    check "roam-client summary: 2 streams" grep -q -E '^received 10\.5 MB in .* over 2 streams' "$work/client.log"
    summary=$(grep -m1 -E '^received' "$work/client.log" | cut -c1-100)
    run_client 20 "$bin/roam-client" --ca "$work/cert.pem" -o - --timeout 10 "https://localhost:$port/no-such-file"
    check "missing file: exit 1" [ "$client_rc" -eq 1 ]
    check "missing file: one line, 404 Not Found" \
      [ "$(cat "$work/client.log")" = "error: https://localhost:$port/no-such-file: 404 Not Found" ]
    detail="10 MB + small file byte-exact, gtlsserver's certificate verified (--ca); a missing file is one '404 Not Found' line, exit 1 ($summary)"
    ;;
  # ---- MIGRATION CASES ----
  gtlsclient-migration)
    # gtlsclient moves to a new local port 5 ms after the handshake, probing it first.
    direction="ngtcp2 client -> roam server"
    start_roam_server "$direction"
    run_client 60 "$gtlsclient" -q --exit-on-all-streams-close --timeout=20s --change-local-addr=5ms \
      --download "$work/dl" 127.0.0.1 "$port" "https://127.0.0.1:$port/file10m"
    check "gtlsclient exits 0" [ "$client_rc" -eq 0 ]
    check "10 MB file byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "roam-server followed the migration" \
      server_says '^path changed 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \(migration\)$'
    check "roam-server validated the new path" server_says '^  paths: [1-9][0-9]* probed, [1-9][0-9]* validated'
    detail="10 MB byte-exact while gtlsclient migrated (--change-local-addr=5ms); roam-server: $(grep -m1 '^path changed' "$work/server.log"), in $elapsed s"
    ;;
  gtlsclient-nat-rebinding)
    # gtlsclient's port changes without probing. As a pure receiver mid-download, ngtcp2 0.12's
    # client sends nothing from its new port (a capture shows no datagram from it), so no server
    # can learn it: here its request leaves after the rebinding (--delay-stream), which is what a
    # server can follow.
    direction="ngtcp2 client -> roam server"
    start_roam_server "$direction"
    run_client 60 "$gtlsclient" -q --exit-on-all-streams-close --timeout=20s --change-local-addr=5ms --nat-rebinding \
      --delay-stream=100ms --download "$work/dl" 127.0.0.1 "$port" "https://127.0.0.1:$port/file10m"
    check "gtlsclient exits 0" [ "$client_rc" -eq 0 ]
    check "10 MB file byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "roam-server followed the NAT rebinding" \
      server_says '^path changed 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \(nat-rebinding\)$'
    check "roam-server counted it as a rebinding" server_says '\(1 NAT rebindings\)'
    detail="10 MB byte-exact after gtlsclient's NAT rebinding (--nat-rebinding, request sent from the new port); roam-server: $(grep -m1 '^path changed' "$work/server.log"), in $elapsed s"
    ;;
  roam-client-migration)
    # roam-client moves from 127.0.0.1 to 127.0.0.2 mid-download (probe, then switch).
    direction="roam client -> ngtcp2 server"
    start_gtlsserver
    run_client 60 "$bin/roam-client" --ca "$work/cert.pem" --download "$work/dl" --timeout 20 --bind 127.0.0.1:0 \
      --migrate-after 20ms --migrate-to 127.0.0.2:0 "https://127.0.0.1:$port/file10m"
    check "roam-client exits 0" [ "$client_rc" -eq 0 ]
    check "10 MB file byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "roam-client validated and moved to 127.0.0.2" grep -q -E '^path 127\.0\.0\.2:[0-9]+ validated, now active' "$work/client.log"
    detail="10 MB byte-exact while roam-client migrated 127.0.0.1 -> 127.0.0.2 (--migrate-after 20ms), in $elapsed s"
    ;;
  roam-client-preferred-address)
    # gtlsserver advertises a preferred address on 127.0.0.2; roam-client validates it and moves.
    direction="roam client -> ngtcp2 server"
    pref_port=$(free_udp_port)
    gtlsserver_extra=(--preferred-ipv4-addr="127.0.0.2:$pref_port")
    start_gtlsserver
    run_client 60 "$bin/roam-client" --ca "$work/cert.pem" --download "$work/dl" --timeout 20 \
      "https://127.0.0.1:$port/file10m"
    check "roam-client exits 0" [ "$client_rc" -eq 0 ]
    check "10 MB file byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "roam-client moved to the preferred address" \
      grep -q -E "^path changed .* towards 127\.0\.0\.2:$pref_port \(preferred-address\)$" "$work/client.log"
    detail="10 MB byte-exact; roam-client followed gtlsserver's preferred address 127.0.0.2:$pref_port, in $elapsed s"
    ;;
  roam-client-nat-rebinding)
    # roam-client's port changes under the same CID (--rebind-after): it sends at once from the new
    # port, so gtlsserver learns the new address even though the client only downloads.
    direction="roam client -> ngtcp2 server"
    start_gtlsserver
    run_client 60 "$bin/roam-client" --ca "$work/cert.pem" --download "$work/dl" --timeout 20 --bind 127.0.0.1:0 \
      --rebind-after 20ms "https://127.0.0.1:$port/file10m"
    check "roam-client exits 0" [ "$client_rc" -eq 0 ]
    check "10 MB file byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "roam-client rebound its port" grep -q -E '^rebound 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \(no probing\)' "$work/client.log"
    detail="10 MB byte-exact after roam-client's NAT rebinding mid-download (--rebind-after 20ms), in $elapsed s"
    ;;
  roam-client-key-update)
    direction="roam client -> ngtcp2 server"
    start_gtlsserver
    run_client 60 "$bin/roam-client" --ca "$work/cert.pem" --download "$work/dl" --timeout 20 \
      --key-update-after 20ms "https://127.0.0.1:$port/file10m"
    check "roam-client exits 0" [ "$client_rc" -eq 0 ]
    check "10 MB file byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "roam-client updated its keys" grep -q -E '^key update: sending with 1-RTT key generation 1' "$work/client.log"
    detail="10 MB byte-exact while roam-client updated the 1-RTT keys (--key-update-after 20ms), in $elapsed s"
    ;;
  # ---- END OF MIGRATION CASES ----
  gtlsclient-0rtt)
    # gtlsclient resumes its session (--session-file, --tp-file) and sends its request in 0-RTT.
    direction="ngtcp2 client -> roam server"
    start_roam_server "$direction"
    mkdir -p "$work/dl1"
    run_client 30 "$gtlsclient" -q --exit-on-all-streams-close --timeout=20s --session-file="$work/session" \
      --tp-file="$work/tp" --download "$work/dl1" 127.0.0.1 "$port" "https://127.0.0.1:$port/file10m"
    check "first run: gtlsclient exits 0" [ "$client_rc" -eq 0 ]
    check "first run: session saved" [ -s "$work/session" ]
    run_client 60 "$gtlsclient" -q --exit-on-all-streams-close --timeout=20s --session-file="$work/session" \
      --tp-file="$work/tp" --download "$work/dl" 127.0.0.1 "$port" "https://127.0.0.1:$port/file10m"
    check "second run: gtlsclient exits 0" [ "$client_rc" -eq 0 ]
    check "second run: 10 MB byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "roam-server resumed the session and accepted 0-RTT" \
      server_says '^  session resumed, 0-RTT accepted \([1-9][0-9]* 0-RTT packets\)$'
    detail="second connection resumed, its request in 0-RTT accepted by roam-server ($(grep -m1 '0-RTT accepted' "$work/server.log" | sed 's/^ *//')), 10 MB byte-exact"
    ;;
  roam-client-0rtt)
    # roam-client resumes its session with gtlsserver and sends its request in 0-RTT.
    direction="roam client -> ngtcp2 server"
    start_gtlsserver
    run_client 30 "$bin/roam-client" --ca "$work/cert.pem" --session-file "$work/session" -o "$work/first" \
      --timeout 20 "https://127.0.0.1:$port/small.txt"
    check "first run: roam-client exits 0" [ "$client_rc" -eq 0 ]
    run_client 60 "$bin/roam-client" --ca "$work/cert.pem" --session-file "$work/session" --download "$work/dl" \
      --timeout 20 "https://127.0.0.1:$port/file10m"
    check "second run: roam-client exits 0" [ "$client_rc" -eq 0 ]
    check "second run: 10 MB byte-exact (sha256)" [ "$(sha "$work/dl/file10m")" = "$(sha "$work/root/file10m")" ]
    check "gtlsserver resumed the session and accepted 0-RTT" grep -q '^session resumed, 0-RTT accepted' "$work/client.log"
    detail="second connection resumed, its request in 0-RTT accepted by gtlsserver ($(grep -m1 '0-RTT' "$work/client.log")), 10 MB byte-exact"
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
  why=$(grep -m1 -E '^error' "$work/client.log" | cut -c1-160)
  result FAIL ngtcp2 "$direction" "$case_name" "${why:-see test log}"
  exit 1
fi
result PASS ngtcp2 "$direction" "$case_name" "$detail"
exit 0
