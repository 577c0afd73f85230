#!/usr/bin/env bash
# tshark decode check: tshark_test.sh ROAM_BIN_DIR TSHARK NO_GSO_SHIM PYTHON3 [PERF_BYTES]
# Captures a roam-client -> roam-server perf transfer on loopback, then has tshark decode it with
# the key log roam-server wrote, and checks (tshark_check.py) that every packet decrypts, the
# handshake and the stream data are what roam sent, and nothing is flagged malformed.
# roam-server runs with the no_udp_gso shim (LD_PRELOAD): on loopback a capture sees a GSO send
# as one unsplit 20-60 KB datagram that no dissector can read (see no_udp_gso.c).
# Exit codes: 0 pass, 1 fail, 77 skipped (no permission to capture on lo).
set -u
bin=$1
tshark=$2
shim=$3
python=$4
n=${5:-2000000}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
work=$(mktemp -d /tmp/roam-tshark.XXXXXX)
trap cleanup EXIT
direction="roam client -> roam server"
fail=0

# 1. roam-server on a free port, writing its TLS secrets.
LD_PRELOAD=$shim "$bin/roam-server" --listen 127.0.0.1:0 --keylog "$work/keys.log" >"$work/server.log" 2>&1 &
track $!
if ! line=$(wait_for_line "$work/server.log" '^roam-server listening on ' 10); then
  show_log "roam-server" "$work/server.log"
  result FAIL tshark "$direction" decode "roam-server did not start"
  exit 1
fi
port=$(echo "$line" | port_of_listening_line)
echo "roam-server: $line"

# 2. tshark capturing that port on lo; wait until it says it is capturing.
# A 64 MiB kernel buffer (-B) so a busy machine does not drop packets before dumpcap reads them.
"$tshark" -i lo -B 64 -f "udp port $port" -w "$work/capture.pcapng" >"$work/tshark.log" 2>&1 &
tshark_pid=$!
track $tshark_pid
if ! wait_for_line "$work/tshark.log" '^Capturing on ' 15 >/dev/null; then
  show_log "tshark" "$work/tshark.log"
  if grep -q -i -E 'permission|not permitted|privileges' "$work/tshark.log"; then
    echo "SKIP: no permission to capture on lo (run as root or give dumpcap CAP_NET_RAW)"
    exit 77
  fi
  result FAIL tshark "$direction" decode "tshark did not start capturing"
  exit 1
fi

# 3. The transfer.
timeout 60 "$bin/roam-client" "127.0.0.1:$port" --insecure --perf "$n" --timeout 50 >"$work/client.log" 2>&1
client_rc=$?
echo "roam-client exit code $client_rc: $(cat "$work/client.log")"
[ "$client_rc" -eq 0 ] || fail=1
# roam-server logs the connection's end once the close is done; then stop the capture.
wait_for_line "$work/server.log" 'closed: 1 requests' 10 >/dev/null
# Stopping the capture discards what dumpcap has not read from the kernel yet, so first wait
# until the capture file has stopped growing for a second (dumpcap may lag on a loaded machine).
last=-1
stable=0
for ((i = 0; i < 120 && stable < 5; i++)); do
  sleep 0.2
  size=$(stat -c %s "$work/capture.pcapng" 2>/dev/null || echo 0)
  if [ "$size" -eq "$last" ]; then stable=$((stable + 1)); else stable=0; fi
  last=$size
done
kill -INT "$tshark_pid"
wait "$tshark_pid" 2>/dev/null
echo "tshark: $(grep -E 'packets? (captured|dropped)' "$work/tshark.log" | tr '\n' ' ')"
if grep -q -E '[1-9][0-9]* packets? dropped' "$work/tshark.log"; then
  echo "FAIL the capture itself dropped packets (the machine was too busy): the decode check below"
  echo "     cannot see the whole transfer; this says nothing about roam"
  fail=1
fi

# 4. Cross-check with tshark's own display filter: nothing malformed, no warning or error.
flagged=$("$tshark" -r "$work/capture.pcapng" -o "tls.keylog_file:$work/keys.log" \
  -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null)
if [ -n "$flagged" ]; then
  echo "FAIL tshark flags packets as malformed or with warnings/errors:"
  echo "$flagged" | head -20
  fail=1
else
  echo "ok   display filter '_ws.malformed || _ws.expert.severity >= warning' matches nothing"
fi
echo "frame types tshark decoded (quic.frame_type, decimal): $("$tshark" -r "$work/capture.pcapng" \
  -o "tls.keylog_file:$work/keys.log" -Y quic -T fields -e quic.frame_type 2>/dev/null |
  tr ',' '\n' | sort -n | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"

# 5. The full decode check.
"$tshark" -r "$work/capture.pcapng" -o "tls.keylog_file:$work/keys.log" -T pdml 2>/dev/null |
  "$python" "$here/tshark_check.py" --server-port "$port" --perf "$n" >"$work/check.log"
check_rc=$?
cat "$work/check.log"
[ "$check_rc" -eq 0 ] || fail=1

# 6. The checker must notice when decryption is impossible: same capture, no keys.
"$tshark" -r "$work/capture.pcapng" -o "tls.keylog_file:/dev/null" -T pdml 2>/dev/null |
  "$python" "$here/tshark_check.py" --server-port "$port" --perf "$n" >"$work/check-nokeys.log"
if [ $? -eq 1 ] && grep -q '^FAIL all .* QUIC packets decrypted' "$work/check-nokeys.log"; then
  echo "ok   without the key log the same check fails (packets not decrypted), as it must"
else
  echo "FAIL the check did not notice undecryptable packets when given no keys:"
  cat "$work/check-nokeys.log"
  fail=1
fi

packets=$(grep -m1 -o '[0-9]* UDP datagrams' "$work/check.log")
if [ "$fail" -ne 0 ]; then
  keep_work=1
  cp "$work/capture.pcapng" "$work/keys.log" . 2>/dev/null &&
    echo "capture and keys copied to $(pwd)/capture.pcapng and $(pwd)/keys.log"
  result FAIL tshark "$direction" decode "see test log"
  exit 1
fi
result PASS tshark "$direction" decode \
  "$n-byte perf: ${packets:-?}, all decrypted, stream bytes verified, nothing malformed"
exit 0
