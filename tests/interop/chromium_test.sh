#!/usr/bin/env bash
# Headless Chromium loads roam-server's built-in demo page and its assets over HTTP/3:
#   chromium_test.sh ROAM_BIN_DIR CHROMIUM PYTHON3
# Runs only inside a private network namespace that has nothing but loopback (`unshare -n`, which
# needs root): Chromium tries to reach Google hosts and the machine's resolver otherwise. Exits 77
# (skipped) when it cannot make one. Passes only if
#   - the page was loaded and its script ran (the dumped DOM shows the script's text, and the
#     protocol the page itself came over, from Resource Timing: "h3");
#   - roam-server's request log shows /, /style.css, /app.js and /roam.png as h3 requests, 200;
#   - Chromium's net log shows each of the four bound to a QUIC session with HTTP/3 HEADERS sent,
#     and none sent over TCP.
set -u
bin=$1
chrome=$2
python=$3
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${ROAM_CHROMIUM_IN_NETNS:-}" ]; then
  if ! unshare -n true 2>/dev/null; then
    echo "SKIP: cannot create a private network namespace (unshare -n needs root); Chromium is not run outside one"
    exit 77
  fi
  export ROAM_CHROMIUM_IN_NETNS=1
  exec unshare -n "$0" "$@"
fi
ip link set lo up || {
  echo "FAIL: cannot bring up lo in the private namespace"
  exit 1
}

. "$here/lib.sh"
work=$(mktemp -d /tmp/roam-chromium.XXXXXX)
trap cleanup EXIT
case_name=chromium-h3-page
direction="chromium -> roam server"
fail=0
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
  else
    echo "FAIL $what"
    fail=1
  fi
}

"$bin/roam-server" --listen 127.0.0.1:0 --log-requests >"$work/server.log" 2>&1 &
track $!
if ! line=$(wait_for_line "$work/server.log" '^roam-server listening on ' 10); then
  show_log roam-server "$work/server.log"
  result FAIL chromium "$direction" "$case_name" "roam-server did not start"
  exit 1
fi
port=$(echo "$line" | port_of_listening_line)
spki=$(wait_for_line "$work/server.log" '^SPKI SHA-256 \(base64\) ' 5 | awk '{print $4}')
echo "roam-server: $line (SPKI $spki)"

t0=$(date +%s.%N)
# The real binary, not Debian's /usr/bin wrapper (which adds flags and noise).
timeout 90 "$chrome" --headless=new --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
  --disable-features=NetworkTimeServiceQuerying,MediaRouter \
  --user-data-dir="$work/profile" \
  --enable-quic --origin-to-force-quic-on="127.0.0.1:$port" \
  --ignore-certificate-errors-spki-list="$spki" \
  --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
  --log-net-log="$work/netlog.json" \
  --virtual-time-budget=5000 \
  --dump-dom "https://127.0.0.1:$port/" >"$work/dom.html" 2>"$work/chromium.err"
chrome_rc=$?
t1=$(date +%s.%N)
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "chromium exit code $chrome_rc after $elapsed s"
rm -rf "$work/profile"

check "chromium exits 0" [ "$chrome_rc" -eq 0 ]
# --dump-dom exits 0 even when the load failed: judge by the content.
check "page loaded (title in the DOM)" grep -q '<title>roam: QUIC that roams</title>' "$work/dom.html"
check "the page's script ran and saw h3" grep -q 'script ran; page protocol: h3' "$work/dom.html"
for path in / /style.css /app.js /roam.png; do
  re="^request 127\\.0\\.0\\.1:[0-9]+ h3 GET ${path//./\\.} 200 [0-9]+\$"
  check "roam-server: h3 GET $path 200" grep -q -E "$re" "$work/server.log"
done
if "$python" - "$work/netlog.json" "$port" <<'PYEOF'; then
import collections, json, sys
d = json.load(open(sys.argv[1]))
port = sys.argv[2]
names = {v: k for k, v in d['constants']['logEventTypes'].items()}
base = 'https://127.0.0.1:%s' % port
url_of, seen, headers_sent = {}, collections.defaultdict(set), set()
for e in d['events']:
    t, p, sid = names[e['type']], e.get('params') or {}, e['source']['id']
    if t == 'URL_REQUEST_START_JOB' and p.get('url', '').startswith(base):
        url_of[sid] = p['url'][len(base):]
    seen[sid].add(t)
    if t == 'HTTP3_HEADERS_SENT':
        h = dict(x.split(': ', 1) for x in p.get('headers', []) if ': ' in x)
        if h.get(':authority') == '127.0.0.1:' + port:
            headers_sent.add(h.get(':path'))
bad = False
for path in ['/', '/style.css', '/app.js', '/roam.png']:
    sids = [s for s, u in url_of.items() if u == path]
    quic = [s for s in sids if {'HTTP_STREAM_REQUEST_BOUND_TO_QUIC_SESSION',
                                'HTTP_TRANSACTION_QUIC_SEND_REQUEST_HEADERS'} <= seen[s]]
    tcp = [s for s in sids if seen[s] & {'HTTP_TRANSACTION_SEND_REQUEST_HEADERS',
                                         'HTTP_TRANSACTION_HTTP2_SEND_REQUEST_HEADERS'}]
    ok = quic and not tcp and path in headers_sent
    print('%s netlog: %-10s requests %d, over QUIC %d, over TCP %d, HTTP3 HEADERS sent %s'
          % ('ok  ' if ok else 'FAIL', path, len(sids), len(quic), len(tcp), path in headers_sent))
    bad = bad or not ok
sys.exit(1 if bad else 0)
PYEOF
  echo "ok   chromium's net log: every request over QUIC with HTTP/3 HEADERS"
else
  echo "FAIL chromium's net log: not every request over QUIC/HTTP3"
  fail=1
fi

if [ "$fail" -ne 0 ]; then
  show_log "roam-server" "$work/server.log"
  show_log "chromium stderr (last 40 lines)" <(tail -n 40 "$work/chromium.err")
  show_log "dumped DOM" "$work/dom.html"
  keep_work=1
  result FAIL chromium "$direction" "$case_name" "see test log"
  exit 1
fi
requests=$(grep -c '^request .* h3 ' "$work/server.log")
result PASS chromium "$direction" "$case_name" \
  "headless Chromium ($("$chrome" --version 2>/dev/null | awk '{print $2}')) loaded the built-in page, its CSS, JS and PNG over h3 ($requests h3 requests in roam-server's log; net log: all over QUIC with HTTP/3 HEADERS; the page's script saw nextHopProtocol h3) in $elapsed s"
exit 0
