#!/usr/bin/env bash
# compare_peers.sh: side-by-side bulk-download benchmark over loopback (roam issue 3).
#
# Downloads the same number of bytes (default 300 MB) over one QUIC connection on 127.0.0.1 with
#   roam     roam-server (ALPN perf)      -> roam-client --perf N        (pattern generated and verified)
#   ngtcp2   Debian's gtlsserver (HTTP/3) -> gtlsclient, body discarded  (dynamic /N response, not verified)
#   quicgo   quicgo-peer server (perf)    -> quicgo-peer client -perf N  (pattern generated and verified)
# alternating the stacks run by run (roam, ngtcp2, quicgo, roam, ...), and prints per-run lines and a
# table of medians: goodput, client CPU s, server CPU s, CPU ns per byte and the ratios against roam.
#
# Goodput is bytes*8 / the client's wall time (process start to exit, handshake included, same for all
# stacks). Client CPU is user+sys from /usr/bin/time; server CPU is the utime+stime delta of the
# long-running server process (all threads) read from /proc/PID/stat before and after each run.
#
# Usage: bench/compare_peers.sh [options]
#   -n, --bytes N       bytes per download (default 300000000)
#   -r, --rounds N      rounds; each round runs every stack once (default 3)
#   -t, --timeout S     kill a client after S seconds (default 120)
#   -b, --build DIR     roam build directory holding apps/ and tests/interop/ (default: build)
#   -s, --stacks LIST   comma-separated subset of roam,ngtcp2,quicgo (default: all three)
#   -k, --keep DIR      keep logs and per-run CSV in DIR (default: a temp dir, removed at exit)
#   -h, --help
# Binaries can be overridden with ROAM_SERVER, ROAM_CLIENT, QUICGO_PEER, GTLSSERVER, GTLSCLIENT.
# Needs: bash, awk, ss (iproute2), timeout, /usr/bin/time, openssl (for ngtcp2's key and certificate),
# go + golang-github-lucas-clemente-quic-go-dev when quicgo-peer is not already built.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

bytes=300000000
rounds=3
timeout_s=120
build="$repo/build"
stacks="roam,ngtcp2,quicgo"
keep=""

die() { echo "error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    -n|--bytes) bytes=${2:?}; shift 2 ;;
    -r|--rounds) rounds=${2:?}; shift 2 ;;
    -t|--timeout) timeout_s=${2:?}; shift 2 ;;
    -b|--build) build=$(cd "${2:?}" && pwd) || die "no build directory $2"; shift 2 ;;
    -s|--stacks) stacks=${2:?}; shift 2 ;;
    -k|--keep) keep=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[[ "$bytes" =~ ^[1-9][0-9]*$ ]] || die "--bytes wants a positive integer, got '$bytes'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive integer, got '$rounds'"
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die "--timeout wants whole seconds, got '$timeout_s'"
IFS=, read -r -a stack_list <<< "$stacks"
for s in "${stack_list[@]}"; do
  case "$s" in roam|ngtcp2|quicgo) ;; *) die "unknown stack '$s' (roam, ngtcp2, quicgo)" ;; esac
done

for tool in awk ss timeout openssl sort; do
  command -v "$tool" > /dev/null || die "'$tool' not found"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt install time)"

if [[ -n "$keep" ]]; then
  mkdir -p "$keep" && work=$(cd "$keep" && pwd)
else
  work=$(mktemp -d /tmp/roam-compare.XXXXXX)
fi

# PIDs of the servers we started; only these are killed at exit.
declare -A server_pid=() server_port=()
cleanup() {
  local pid
  for pid in "${server_pid[@]}"; do
    kill "$pid" 2> /dev/null || true
  done
  for pid in "${server_pid[@]}"; do
    for _ in $(seq 20); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null || true
  done
  if [[ -z "$keep" ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- binaries ---------------------------------------------------------------------------------------
wants() { [[ ",$stacks," == *",$1,"* ]]; }

if wants roam; then
  ROAM_SERVER=${ROAM_SERVER:-$build/apps/roam-server}
  ROAM_CLIENT=${ROAM_CLIENT:-$build/apps/roam-client}
  [[ -x "$ROAM_SERVER" && -x "$ROAM_CLIENT" ]] ||
    die "roam-server/roam-client not found in $build/apps (cmake --build $build --target roam-server roam-client)"
fi
if wants ngtcp2; then
  GTLSSERVER=${GTLSSERVER:-$(command -v gtlsserver || true)}
  GTLSCLIENT=${GTLSCLIENT:-$(command -v gtlsclient || true)}
  [[ -n "$GTLSSERVER" && -n "$GTLSCLIENT" ]] || die "gtlsserver/gtlsclient not found (apt install ngtcp2-server ngtcp2-client)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -keyout "$work/ngtcp2-key.pem" -out "$work/ngtcp2-cert.pem" > /dev/null 2>&1 ||
    die "openssl could not make a key and certificate for gtlsserver"
  mkdir -p "$work/htdocs" "$work/ngtcp2-download"
fi
if wants quicgo; then
  QUICGO_PEER=${QUICGO_PEER:-$build/tests/interop/quicgo-peer}
  if [[ ! -x "$QUICGO_PEER" ]]; then
    command -v go > /dev/null || die "quicgo-peer not built and 'go' not found (apt install golang-go)"
    quicgo_src=/usr/share/gocode/src/github.com/lucas-clemente/quic-go
    [[ -f "$quicgo_src/interface.go" ]] ||
      die "quicgo-peer not built and quic-go sources missing (apt install golang-github-lucas-clemente-quic-go-dev)"
    echo "building quicgo-peer into $work (offline GOPATH build)"
    QUICGO_PEER="$work/quicgo-peer"
    env GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$work/gopath:/usr/share/gocode" GOCACHE="$work/gocache" \
      go build -o "$QUICGO_PEER" "$repo/tests/interop/quicgo/peer.go" || die "go build of quicgo-peer failed"
  fi
fi

# ---- servers ----------------------------------------------------------------------------------------
port_free() { [[ -z "$(ss -Huln "sport = :$1" 2> /dev/null)" ]]; }
port_bound() { [[ -n "$(ss -Huln "sport = :$1" 2> /dev/null)" ]]; }

# start_server STACK: start the stack's server on a random free port, wait until it listens.
start_server() {
  local stack=$1 attempt port pid log="$work/$1-server.log"
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    case "$stack" in
      roam) "$ROAM_SERVER" --listen "127.0.0.1:$port" --alpn perf -q > "$log" 2>&1 & ;;
      ngtcp2) "$GTLSSERVER" 127.0.0.1 "$port" "$work/ngtcp2-key.pem" "$work/ngtcp2-cert.pem" -q \
                -d "$work/htdocs" --max-dyn-length="$bytes" > "$log" 2>&1 & ;;
      quicgo) "$QUICGO_PEER" server -listen "127.0.0.1:$port" > "$log" 2>&1 & ;;
    esac
    pid=$!
    for _ in $(seq 100); do
      kill -0 "$pid" 2> /dev/null || break
      if port_bound "$port"; then
        server_pid[$stack]=$pid
        server_port[$stack]=$port
        return 0
      fi
      sleep 0.1
    done
    kill "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    echo "warning: $stack server did not come up on port $port (attempt $attempt): $(tail -n 2 "$log" | tr '\n' ' ')" >&2
  done
  die "$stack server would not start; see $log"
}

# server_cpu_ticks PID: utime+stime of the whole process in clock ticks (fields 14 and 15 of stat;
# the text after the last ')' starts at field 3).
server_cpu_ticks() {
  local stat
  stat=$(< "/proc/$1/stat") || return 1
  stat=${stat##*) }
  awk '{ print $12 + $13 }' <<< "$stat"
}
ticks=$(getconf CLK_TCK)

# ---- one run ----------------------------------------------------------------------------------------
# run_client STACK OUT ERR: run the client under /usr/bin/time and timeout; writes "wall user sys" to
# $work/time. Returns the client's exit status.
run_client() {
  local stack=$1 out=$2 err=$3 port=${server_port[$1]} size=${4:-$bytes}
  local -a cmd
  case "$stack" in
    roam) cmd=("$ROAM_CLIENT" "127.0.0.1:$port" --insecure --perf "$size" --timeout 10) ;;
    ngtcp2) cmd=("$GTLSCLIENT" 127.0.0.1 "$port" "https://127.0.0.1:$port/$size" -q --exit-on-all-streams-close)
            [[ -n "${5:-}" ]] && cmd+=(--download="$5") ;;
    quicgo) cmd=("$QUICGO_PEER" client -addr "127.0.0.1:$port" -alpn perf -perf "$size") ;;
  esac
  /usr/bin/time -f "%e %U %S" -o "$work/time" timeout -k 5 "$timeout_s" "${cmd[@]}" > "$out" 2> "$err"
}

# check_output STACK OUT: did the client report a complete, verified download?
check_output() {
  case "$1" in
    roam) grep -q "^received .*all bytes verified" "$2" ;;  # exits non-zero unless exactly N bytes matched
    quicgo) grep -q "received $bytes bytes.*all bytes verified" "$2" ;;
    ngtcp2) true ;;                                       # body discarded; checked by the preflight
  esac
}

# preflight STACK: a small download that proves the setup works (for ngtcp2 also the body length).
preflight() {
  local stack=$1 size=$((bytes < 1000000 ? bytes : 1000000)) out="$work/$1-preflight.out" err="$work/$1-preflight.err"
  if [[ "$stack" == ngtcp2 ]]; then
    rm -f "$work/ngtcp2-download/$size"
    run_client ngtcp2 "$out" "$err" "$size" "$work/ngtcp2-download" ||
      die "ngtcp2 preflight failed: $(tail -n 3 "$err" | tr '\n' ' ')"
    local got
    got=$(stat -c %s "$work/ngtcp2-download/$size" 2> /dev/null || echo 0)
    [[ "$got" == "$size" ]] || die "ngtcp2 preflight: got $got of $size bytes"
    rm -f "$work/ngtcp2-download/$size"
  else
    run_client "$stack" "$out" "$err" "$size" ||
      die "$stack preflight failed: $(cat "$out" "$err" | tail -n 3 | tr '\n' ' ')"
  fi
}

csv="$work/runs.csv"
echo "round,stack,ok,wall_s,client_user_s,client_sys_s,server_cpu_s" > "$csv"

# measure STACK ROUND: one timed download; appends a CSV row and prints a line.
measure() {
  local stack=$1 round=$2 out="$work/$1-$2.out" err="$work/$1-$2.err"
  local pid=${server_pid[$1]} before after rc=0 ok=1
  kill -0 "$pid" 2> /dev/null || die "$stack server (pid $pid) died; see $work/$stack-server.log"
  before=$(server_cpu_ticks "$pid")
  run_client "$stack" "$out" "$err" || rc=$?
  sleep 0.3  # let the server finish closing the connection before reading its CPU
  after=$(server_cpu_ticks "$pid") || die "$stack server (pid $pid) died during the run"
  local wall user sys
  read -r wall user sys < <(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+$' "$work/time" | tail -n 1) || true
  if [[ $rc -ne 0 ]]; then
    ok=0
    local why="exit status $rc"
    [[ $rc -eq 124 || $rc -eq 137 ]] && why="killed after ${timeout_s} s"
    echo "error: $stack round $round: client failed ($why): $(cat "$out" "$err" | grep -v '^$' | tail -n 2 | tr '\n' ' ')" >&2
  elif ! check_output "$stack" "$out"; then
    ok=0
    echo "error: $stack round $round: no complete verified download in the client output: $(tail -n 2 "$out" | tr '\n' ' ')" >&2
  fi
  local server_s
  server_s=$(awk -v a="$before" -v b="$after" -v t="$ticks" 'BEGIN { printf "%.2f", (b - a) / t }')
  echo "$round,$stack,$ok,${wall:-0},${user:-0},${sys:-0},$server_s" >> "$csv"
  if [[ $ok -eq 1 ]]; then
    awk -v s="$stack" -v r="$round" -v w="$wall" -v u="$user" -v y="$sys" -v v="$server_s" -v n="$bytes" 'BEGIN {
      printf "round %d %-7s %6.3f Gbit/s  wall %6.2f s  client CPU %6.2f s  server CPU %6.2f s  %5.2f ns/B\n",
             r, s, n * 8 / w / 1e9, w, u + y, v, (u + y + v) * 1e9 / n }'
  fi
}

# ---- main -------------------------------------------------------------------------------------------
echo "compare_peers: $bytes bytes per download, $rounds rounds, stacks ${stacks}; work dir $work"
echo "machine: $(nproc) CPUs, $(uname -sr), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -n "${ROAM_SERVER:-}" ]] && echo "roam:   $ROAM_SERVER, $ROAM_CLIENT"
[[ -n "${GTLSSERVER:-}" ]] && echo "ngtcp2: $GTLSSERVER, $GTLSCLIENT ($(dpkg-query -W -f '${Version}' ngtcp2-client 2> /dev/null || echo '?'))"
[[ -n "${QUICGO_PEER:-}" ]] && echo "quicgo: $QUICGO_PEER (quic-go $(dpkg-query -W -f '${Version}' golang-github-lucas-clemente-quic-go-dev 2> /dev/null || echo '?'))"

for s in "${stack_list[@]}"; do
  start_server "$s"
  preflight "$s"
  echo "$s server: pid ${server_pid[$s]}, port ${server_port[$s]}, preflight ok"
done

for round in $(seq "$rounds"); do
  for s in "${stack_list[@]}"; do
    measure "$s" "$round"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per stack over the successful runs, then ratios against roam (if roam was run).
awk -F, -v n="$bytes" -v order="$stacks" '
  function median(list,    k, a, c, t, i, j) {
    c = split(list, a, " ")
    for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  NR == 1 { next }
  { total[$2]++ }
  $3 == 1 {
    ok[$2]++
    gb[$2] = gb[$2] " " n * 8 / $4 / 1e9
    cc[$2] = cc[$2] " " $5 + $6
    sc[$2] = sc[$2] " " $7
    nb[$2] = nb[$2] " " ($5 + $6 + $7) * 1e9 / n
  }
  END {
    k = split(order, st, ",")
    for (i = 1; i <= k; i++) if (ok[st[i]]) {
      G[st[i]] = median(gb[st[i]]); C[st[i]] = median(cc[st[i]])
      S[st[i]] = median(sc[st[i]]); B[st[i]] = median(nb[st[i]])
    }
    printf "\nmedians over successful runs (%.0f bytes each)\n", n
    printf "| stack | runs ok | goodput Gbit/s | client CPU s | server CPU s | CPU ns/byte | goodput vs roam | CPU/byte vs roam |\n"
    printf "|---|---|---|---|---|---|---|---|\n"
    for (i = 1; i <= k; i++) {
      s = st[i]
      if (!ok[s]) { printf "| %s | 0/%d | - | - | - | - | - | - |\n", s, total[s]; continue }
      gr = ("roam" in G) ? sprintf("%.2fx", G[s] / G["roam"]) : "-"
      cr = ("roam" in B) ? sprintf("%.2fx", B[s] / B["roam"]) : "-"
      printf "| %s | %d/%d | %.3f | %.2f | %.2f | %.2f | %s | %s |\n", s, ok[s], total[s], G[s], C[s], S[s], B[s], gr, cr
    }
  }' "$csv"
[[ -n "$keep" ]] && echo "raw runs: $csv"

# Fail when a stack never completed a run.
awk -F, 'NR > 1 && $3 == 1 { ok[$2] = 1 } NR > 1 { seen[$2] = 1 }
         END { for (s in seen) if (!ok[s]) { print "error: " s ": no successful run" > "/dev/stderr"; bad = 1 } exit bad }' "$csv"
