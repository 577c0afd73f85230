#!/usr/bin/env bash
# Datagrams per second that roam-lb forwards on one core, set against ceilings measured in the
# same run over loopback (bench/lb_blaster.cc sends, sinks and relays with sendmmsg/recvmmsg):
#   direct          blaster -> sink: the plain UDP loopback ceiling
#   relay           blaster -> relay -> sink: recvmmsg + sendmmsg and nothing else, the floor cost
#                   of any user-space forwarder on one core
#   roam-lb <mode>  blaster -> roam-lb -> sink (the sink is roam-lb's only backend): four-pass
#                   (encrypted CIDs, 3 AES passes per datagram), plaintext CIDs, and unroutable
#                   short headers (4-tuple fallback hash)
# Pinning on this 2-core machine: the forwarder (relay or roam-lb) alone on CPU 1, blaster and sink
# share CPU 0; for direct, blaster on CPU 0 and sink on CPU 1. With three processes on two cores
# the forwarder is not always the bottleneck, so besides the rate delivered at the sink the script
# reads the forwarder's CPU time (/proc/PID/stat) and reports datagrams forwarded per CPU-second:
# the rate one fully busy core would sustain. Each number is the median of ROUNDS runs.
# Usage: bench/lb_pps.sh [BUILD_DIR]      env: SECONDS_PER_RUN=4 ROUNDS=3 SIZE=1200
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${SECONDS_PER_RUN:-4}
rounds=${ROUNDS:-3}
size=${SIZE:-1200}
blaster=$build/bench/lb_blaster
lb=$build/apps/roam-lb
for b in "$blaster" "$lb"; do
  [ -x "$b" ] || { echo "error: $b not built (cmake --build $build --target lb_blaster roam-lb)"; exit 1; }
done
command -v taskset >/dev/null || { echo "error: taskset not found (util-linux)"; exit 1; }
key=8f95f09245765f80256934e50c66207f
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

port() { echo $((20000 + RANDOM % 30000)); }

# one_run FORWARDER DCIDS...: prints "SINK_PPS FORWARDED CPU_SECONDS" (the last two 0 for
# direct). FORWARDER: none | relay | lb:<conf-template>
one_run() {
  local fwd=$1
  shift
  local sink_port fwd_port target fpid=""
  sink_port=$(port)
  fwd_port=$(port)
  local sink_cpu=0
  [ "$fwd" = none ] && sink_cpu=1  # direct: sender and sink each get a core
  taskset -c "$sink_cpu" "$blaster" sink --listen "127.0.0.1:$sink_port" --seconds $((secs + 3)) > "$tmp/sink.out" &
  local spid=$!
  pids+=("$spid")
  target=$sink_port
  case $fwd in
    relay)
      taskset -c 1 "$blaster" relay --listen "127.0.0.1:$fwd_port" --to "127.0.0.1:$sink_port" --seconds $((secs + 3)) > "$tmp/relay.out" &
      fpid=$!
      target=$fwd_port ;;
    lb:*)
      sed "s/SINK/$sink_port/" "$tmp/${fwd#lb:}.conf" > "$tmp/run.conf"
      taskset -c 1 "$lb" --listen "127.0.0.1:$fwd_port" --config "$tmp/run.conf" > "$tmp/lb.out" &
      fpid=$!
      target=$fwd_port ;;
  esac
  [ -n "$fpid" ] && pids+=("$fpid")
  sleep 0.5
  local dargs=()
  for d in "$@"; do dargs+=(--dcid "$d"); done
  taskset -c 0 "$blaster" send --to "127.0.0.1:$target" --seconds "$secs" --size "$size" "${dargs[@]}" > "$tmp/send.out"
  local cpu=0 forwarded=0
  if [ -n "$fpid" ]; then
    # utime + stime (fields 14 and 15) in clock ticks, read before the process ends.
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$fpid/stat")
    kill -TERM "$fpid" 2>/dev/null || true
    wait "$fpid" 2>/dev/null || true
    if [ "$fwd" = relay ]; then
      forwarded=$(sed -nE 's/^relayed ([0-9]+) datagrams/\1/p' "$tmp/relay.out")
    else
      forwarded=$(sed -nE 's/.*stopped: .* to-backends=([0-9]+) .*/\1/p' "$tmp/lb.out")
      [ -n "$forwarded" ] || { echo "warning: roam-lb printed no counters" >&2; forwarded=0; }
    fi
  fi
  wait "$spid" 2>/dev/null || true
  echo "$(sed -nE 's/.*: ([0-9]+) pps$/\1/p' "$tmp/sink.out" | tail -n 1) ${forwarded:-0} $cpu"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

cat > "$tmp/fourpass.conf" <<CONF
config id=0 server-id-len=3 nonce-len=5 key=$key
backend 0a01=127.0.0.1:SINK
CONF
cat > "$tmp/plaintext.conf" <<CONF
config id=1 server-id-len=3 nonce-len=5
backend 0a01=127.0.0.1:SINK
CONF
mapfile -t fourpass < <("$lb" encode --config-id 0 --server-id-len 3 --nonce-len 5 --key $key --server-id 0a0107 --count 64)
mapfile -t plaintext < <("$lb" encode --config-id 1 --server-id-len 3 --nonce-len 5 --server-id 0a0107 --count 64)
unroutable=()
for i in $(seq 1 64); do unroutable+=("$(printf 'e8%014x' $((RANDOM * 32768 + RANDOM)))"); done

echo "roam-lb forwarding rate, ${size}-byte datagrams, median of $rounds x ${secs}s per case, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-29s %12s %9s %16s %9s\n' case "sink pps" "fwd CPU" "per CPU-second" "of relay"
relay_rate=
for spec in "direct|none|" "relay|relay|" "roam-lb four-pass|lb:fourpass|fourpass" \
            "roam-lb plaintext|lb:plaintext|plaintext" "roam-lb unroutable (4-tuple)|lb:fourpass|unroutable"; do
  IFS='|' read -r name fwd list <<<"$spec"
  dcids=()
  case $list in
    fourpass) dcids=("${fourpass[@]}") ;;
    plaintext) dcids=("${plaintext[@]}") ;;
    unroutable) dcids=("${unroutable[@]}") ;;
  esac
  sinks=() rates=() cpus=()
  for _ in $(seq 1 "$rounds"); do
    read -r sink forwarded cpu < <(one_run "$fwd" "${dcids[@]}")
    sinks+=("$sink")
    cpus+=("$(awk -v c="$cpu" -v s="$secs" 'BEGIN {printf "%.0f", 100 * c / s}')")
    rates+=("$(awk -v f="$forwarded" -v c="$cpu" 'BEGIN {printf "%.0f", (c > 0 ? f / c : 0)}')")
  done
  sink=$(printf '%s\n' "${sinks[@]}" | median)
  if [ "$fwd" = none ]; then
    printf '%-29s %12s %9s %16s %9s\n' "$name" "$sink" - - -
    continue
  fi
  rate=$(printf '%s\n' "${rates[@]}" | median)
  cpu=$(printf '%s\n' "${cpus[@]}" | median)
  [ "$fwd" = relay ] && relay_rate=$rate
  share=-
  [ "$fwd" != relay ] && [ "${relay_rate:-0}" -gt 0 ] && share=$(awk -v a="$rate" -v b="$relay_rate" 'BEGIN {printf "%.0f%%", 100 * a / b}')
  printf '%-29s %12s %8s%% %16s %9s\n' "$name" "$sink" "$cpu" "$rate" "$share"
done
