#!/usr/bin/env bash
# Connection migration over real sockets (roam issue 4): roam-client moves mid-transfer and the
# transfer completes with every byte verified; roam-server prints one line per path change.
#   1. 127.0.0.1 -> 127.0.0.2, probe then switch (--migrate-after --migrate-to)
#   2. switch at once, validate in parallel (--migrate-now)
#   3. a NAT rebinding: new port, same CID, no probing (--rebind-after)
#   4. in a private network namespace, two addresses on one interface (as root)
#   5. --follow-network in two namespaces joined by a veth pair: the client's address is replaced
#      mid-transfer and rtnetlink tells the client to move (as root)
# Every transfer is a perf download (each byte checked against the pattern) or a file download
# compared by SHA-256.
set -u
bin=$1
fail=0
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  ip netns del roam-mig-s 2>/dev/null
  ip netns del roam-mig-c 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

# expect_line NAME FILE REGEX
expect_line() {
  if grep -Eq "$3" "$2"; then ok "$1"; else bad "$1: no line matching '$3' in $2:"; sed 's/^/    /' "$2"; fi
}

start_server() {  # start_server LOGFILE ARGS...
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do grep -q "listening on" "$log" && return 0; sleep 0.1; done
  bad "server did not start: $(cat "$log")"
  return 1
}

port=$((20000 + RANDOM % 20000))
head -c 30000000 /dev/urandom >"$tmp/file.bin"
start_server "$tmp/server.log" "$bin/roam-server" --listen "127.0.0.1:$port" --root "$tmp"

run_client() {  # run_client NAME ARGS... ; output in $tmp/NAME.out
  local name=$1
  shift
  if timeout 60 "$bin/roam-client" "$@" >"$tmp/$name.out" 2>&1; then
    ok "$name"
  else
    bad "$name: exit $?: $(cat "$tmp/$name.out")"
  fi
}

run_client "migrate 127.0.0.1 -> 127.0.0.2 (probe, then switch)" \
  "127.0.0.1:$port" --insecure --perf 300000000 --bind 127.0.0.1:0 --migrate-after 150ms --migrate-to 127.0.0.2:0
expect_line "server saw the migration" "$tmp/server.log" "^path changed 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.2:[0-9]+ \(migration\)$"
expect_line "server validated the new path" "$tmp/server.log" "paths: 1 probed, 1 validated, 0 failed; 1 migrations"

run_client "migrate now, validate in parallel" \
  "127.0.0.1:$port" --insecure --perf 300000000 --bind 127.0.0.1:0 --migrate-after 150ms --migrate-now
grep -q "validating in parallel" "$tmp/migrate now, validate in parallel.out" && ok "client switched before validation" ||
  bad "client did not switch at once: $(cat "$tmp/migrate now, validate in parallel.out")"

mkdir -p "$tmp/dl"
run_client "NAT rebinding mid-download" \
  "https://127.0.0.1:$port/file.bin" --alpn hq-interop --insecure --bind 127.0.0.1:0 --rebind-after 100ms \
  --max-time 30 --download "$tmp/dl"
if cmp -s "$tmp/file.bin" "$tmp/dl/file.bin"; then ok "rebinding: file identical"; else bad "rebinding: file differs"; fi
expect_line "server saw the NAT rebinding" "$tmp/server.log" "^path changed 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \(nat-rebinding\)$"

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! unshare -n true 2>/dev/null; then
  echo "skip namespace cases: need root, iproute2 and unshare"
  exit $fail
fi

# 4. Two addresses on one interface in a private namespace.
cat >"$tmp/ns-two-addresses.sh" <<EOF
set -e
ip link set lo up
ip addr add 10.61.0.1/32 dev lo
ip addr add 10.61.0.2/32 dev lo
"$bin/roam-server" --listen 10.61.0.1:4433 >"$tmp/ns-server.log" 2>&1 &
s=\$!
sleep 0.5
rc=0
timeout 60 "$bin/roam-client" 10.61.0.1:4433 --insecure --perf 300000000 --bind 10.61.0.1:0 \
  --migrate-after 150ms --migrate-to 10.61.0.2:0 >"$tmp/ns-client.out" 2>&1 || rc=\$?
kill \$s; wait \$s 2>/dev/null || true
exit \$rc
EOF
if unshare -n bash "$tmp/ns-two-addresses.sh"; then ok "namespace: migrate between two addresses of one interface"; else
  bad "namespace migration: $(cat "$tmp/ns-client.out")"; fi
expect_line "namespace: server saw 10.61.0.1 -> 10.61.0.2" "$tmp/ns-server.log" \
  "^path changed 10\.61\.0\.1:[0-9]+ -> 10\.61\.0\.2:[0-9]+ \(migration\)$"

# 5. --follow-network: the client's address is replaced under it; rtnetlink tells it to move.
if ip netns add roam-mig-s && ip netns add roam-mig-c &&
  ip link add rm-s netns roam-mig-s type veth peer name rm-c netns roam-mig-c; then
  S="ip netns exec roam-mig-s"
  C="ip netns exec roam-mig-c"
  $S ip link set lo up && $C ip link set lo up
  $S ip addr add 10.62.0.1/24 dev rm-s && $S ip link set rm-s up
  $C sysctl -qw net.ipv4.conf.rm-c.promote_secondaries=1
  $C ip addr add 10.62.0.2/24 dev rm-c && $C ip link set rm-c up
  sleep 0.3
  $S "$bin/roam-server" --listen 10.62.0.1:4433 >"$tmp/follow-server.log" 2>&1 &
  pids+=($!)
  sleep 0.5
  $C timeout 60 "$bin/roam-client" 10.62.0.1:4433 --insecure --perf 600000000 --follow-network \
    --max-time 50 >"$tmp/follow-client.out" 2>&1 &
  client=$!
  sleep 0.6
  # The new address arrives, then the old one goes (promote_secondaries keeps the new one).
  $C ip addr add 10.62.0.3/24 dev rm-c
  $C ip addr del 10.62.0.2/24 dev rm-c
  if wait $client; then ok "follow-network: transfer completed after the address change"; else
    bad "follow-network: $(cat "$tmp/follow-client.out")"; fi
  expect_line "follow-network: server saw 10.62.0.2 -> 10.62.0.3" "$tmp/follow-server.log" \
    "^path changed 10\.62\.0\.2:[0-9]+ -> 10\.62\.0\.3:[0-9]+ \(migration\)$"
else
  echo "skip follow-network: cannot create namespaces with a veth pair"
fi
exit $fail
