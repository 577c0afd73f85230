#!/usr/bin/env bash
# Session resumption and 0-RTT over real sockets (roam issue 5): roam-client --session-file saves
# the session (ticket, transport parameters, NEW_TOKEN) after a first download; the next run
# resumes it and sends its request in 0-RTT; the server reads it and says so. Over h3, hq-interop
# and perf; files compared byte for byte.
set -u
bin=$1
fail=0
tmp=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

head -c 2000000 /dev/urandom >"$tmp/file.bin"
port=$((20000 + RANDOM % 20000))
"$bin/roam-server" --listen "127.0.0.1:$port" --root "$tmp" --log-requests >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q "listening on" "$tmp/server.log" && break; sleep 0.1; done

for alpn in h3 hq-interop; do
  sess="$tmp/session-$alpn"
  for run in first second third; do
    out="$tmp/$alpn-$run.out"
    if timeout 30 "$bin/roam-client" --insecure --alpn "$alpn" --session-file "$sess" -o "$tmp/$alpn-$run.bin" \
      "https://127.0.0.1:$port/file.bin" >"$out" 2>&1; then
      ok "$alpn $run run"
    else
      bad "$alpn $run run: $(cat "$out")"
    fi
    cmp -s "$tmp/file.bin" "$tmp/$alpn-$run.bin" && ok "$alpn $run run: file identical" || bad "$alpn $run run: file differs"
    [ -s "$sess" ] && ok "$alpn $run run: session saved" || bad "$alpn $run run: no session file"
    if [ "$run" != first ]; then
      grep -q "^session resumed, 0-RTT accepted" "$out" && ok "$alpn $run run: resumed with 0-RTT" ||
        bad "$alpn $run run: not resumed with 0-RTT: $(cat "$out")"
    fi
  done
done
timeout 30 "$bin/roam-client" --insecure --session-file "$tmp/session-perf" --perf 100000 "127.0.0.1:$port" >/dev/null 2>&1
timeout 30 "$bin/roam-client" --insecure --session-file "$tmp/session-perf" --perf 100000 "127.0.0.1:$port" \
  >"$tmp/perf.out" 2>&1 && grep -q "all bytes verified" "$tmp/perf.out" && grep -q "0-RTT accepted" "$tmp/perf.out" &&
  ok "perf resumed with 0-RTT, bytes verified" || bad "perf with 0-RTT: $(cat "$tmp/perf.out")"
# A session for another ALPN is not used for 0-RTT (its early data belongs to that protocol).
timeout 30 "$bin/roam-client" --insecure --session-file "$tmp/session-h3" --perf 1000 "127.0.0.1:$port" \
  >"$tmp/cross.out" 2>&1 && ! grep -q "0-RTT accepted" "$tmp/cross.out" && ok "h3 session not used for perf 0-RTT" ||
  bad "cross-ALPN: $(cat "$tmp/cross.out")"
# A damaged session file is one clear error.
printf 'junk' >"$tmp/bad-session"
out=$(timeout 10 "$bin/roam-client" --insecure --session-file "$tmp/bad-session" --perf 10 "127.0.0.1:$port" 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$out" = "error: $tmp/bad-session is not a roam session file" ] && ok "damaged session file: one line, exit 1" ||
  bad "damaged session file: exit $rc: $out"
sleep 0.3
n=$(grep -c "session resumed, 0-RTT accepted" "$tmp/server.log")
[ "$n" -ge 5 ] && ok "server: $n sessions resumed with 0-RTT" || bad "server saw $n 0-RTT resumptions: $(cat "$tmp/server.log")"
exit $fail
