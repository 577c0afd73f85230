#!/usr/bin/env bash
# End-to-end HTTP/3 over real loopback sockets: roam-server (--root, and its built-in demo site)
# and roam-client with its default ALPN, h3. Checks byte-exact downloads (sha256), several URLs as
# concurrent requests on one connection, more requests than the stream limit, the server's request
# log, HEAD, and the status codes a user sees: 404 for missing files, 400 for paths that try to
# leave the served tree, each as one error line and a non-zero exit.
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
www=$here/../../www
fail=0
work=$(mktemp -d)
servers=()
cleanup() {
  local p
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${servers[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "ok   $1"; }
bad() {
  echo "FAIL $1"
  fail=1
}
expect() {  # expect NAME COMMAND...: the command must succeed
  local name=$1
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
client() {  # client ARGS...: output in $out (stdout+stderr), exit code in $rc
  out=$(timeout 60 "$bin/roam-client" --insecure "$@" 2>&1)
  rc=$?
}
same_file() { [ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]; }

start_server() {  # start_server LOG ARGS...: sets $port
  local log=$1
  shift
  "$bin/roam-server" --listen 127.0.0.1:0 --log-requests "$@" >"$log" 2>&1 &
  servers+=($!)
  port=
  for _ in $(seq 1 50); do
    port=$(sed -n -E 's/^roam-server listening on 127\.0\.0\.1:([0-9]+) .*/\1/p' "$log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "FAIL roam-server did not start:"
    cat "$log"
    exit 1
  fi
}

# The served tree, and a secret next to it that must stay out of reach.
root=$work/root
mkdir -p "$root/sub" "$root/many"
head -c 5000000 /dev/urandom >"$root/big.bin"
: >"$root/empty.txt"
printf 'inside a subdirectory\n' >"$root/sub/inner.txt"
printf '<p>sub index</p>\n' >"$root/sub/index.html"
for i in $(seq 1 150); do printf 'file %d\n' "$i" >"$root/many/f$i.txt"; done
printf 'top secret\n' >"$work/secret.txt"
ln -s ../secret.txt "$root/link-out.txt"

log=$work/server.log
start_server "$log" --root "$root"
expect "server offers h3 first" grep -q -E '^roam-server listening on .* \(ALPN h3,' "$log"
base=https://127.0.0.1:$port
connections() { grep -c '^connection from .* closed: ' "$log"; }

# 1. Several URLs in one invocation: concurrent requests on one connection, byte-exact.
dl=$work/dl
before=$(connections)
client --download "$dl" "$base/big.bin" "$base/empty.txt" "$base/sub/inner.txt" "$base/sub/"
expect "download of 4 URLs exits 0 ($out)" [ "$rc" -eq 0 ]
expect "5 MB file identical" same_file "$root/big.bin" "$dl/big.bin"
expect "empty file downloaded, empty" [ -f "$dl/empty.txt" ] && [ ! -s "$dl/empty.txt" ]
expect "file from a subdirectory identical" same_file "$root/sub/inner.txt" "$dl/inner.txt"
expect "directory URL gets its index.html" same_file "$root/sub/index.html" "$dl/index.html"
expect "summary line" grep -q -E '^received 5\.0 MB in .* over 4 streams' <<<"$out"
sleep 0.3
expect "the 4 URLs shared one connection" [ "$(($(connections) - before))" -eq 1 ]
expect "server counted 4 h3 requests on it" grep -q -E 'closed: 4 requests, 5000039 bytes sent, .*\(ALPN h3, 0 refused\)' "$log"
expect "request log: one line per request with ALPN and path" \
  grep -q -E '^request 127\.0\.0\.1:[0-9]+ h3 GET /big\.bin 200 5000000$' "$log"
expect "request log: the directory URL" grep -q -E '^request 127\.0\.0\.1:[0-9]+ h3 GET /sub/ 200 17$' "$log"

# 2. Standard output, in URL order.
timeout 60 "$bin/roam-client" --insecure -q "$base/sub/inner.txt" "$base/big.bin" "$base/many/f7.txt" >"$work/cat.out"
expect "several URLs to stdout, in URL order" \
  same_file <(cat "$root/sub/inner.txt" "$root/big.bin" "$root/many/f7.txt") "$work/cat.out"

# 3. More requests than the server's stream limit (100), on one connection.
urls=()
for i in $(seq 1 150); do urls+=("$base/many/f$i.txt"); done
client --download "$work/many" "${urls[@]}"
expect "150 files over one connection exit 0" [ "$rc" -eq 0 ]
expect "150 files identical" diff -r "$root/many" "$work/many"

# 4. Many clients at once.
pids=()
for i in $(seq 1 10); do
  timeout 60 "$bin/roam-client" --insecure -q -o "$work/par$i.bin" "$base/big.bin" &
  pids+=($!)
done
par_fail=0
for p in "${pids[@]}"; do wait "$p" || par_fail=1; done
for i in $(seq 1 10); do same_file "$root/big.bin" "$work/par$i.bin" || par_fail=1; done
expect "10 concurrent clients each got the 5 MB file" [ "$par_fail" -eq 0 ]

# 5. HEAD: status and fields, no body.
client --head "$base/big.bin"
expect "HEAD exits 0" [ "$rc" -eq 0 ]
expect "HEAD prints the status line" grep -q -x 'HTTP/3 200' <<<"$out"
expect "HEAD prints content-length" grep -q -x 'content-length: 5000000' <<<"$out"
expect "HEAD prints content-type" grep -q -x 'content-type: application/octet-stream' <<<"$out"
expect "request log: HEAD" grep -q -E '^request 127\.0\.0\.1:[0-9]+ h3 HEAD /big\.bin 200 5000000$' "$log"

# 6. A missing file: 404, one line, non-zero exit, nothing saved.
client --download "$work/miss" "$base/no-such-file"
expect "missing file exits 1" [ "$rc" -eq 1 ]
expect "missing file: one line" [ "$(wc -l <<<"$out")" -eq 1 ]
expect "missing file: says 404 Not Found" grep -q -x "error: $base/no-such-file: 404 Not Found" <<<"$out"
expect "missing file: nothing saved" [ -z "$(ls -A "$work/miss")" ]
client --download "$work/mixed" "$base/sub/inner.txt" "$base/nope.txt"
expect "one good, one missing: exit 1, good one saved" [ "$rc" -eq 1 ] && same_file "$root/sub/inner.txt" "$work/mixed/inner.txt"
expect "one good, one missing: one error line" [ "$(grep -c '^error: ' <<<"$out")" -eq 1 ]
expect "request log: 404" grep -q -E '^request 127\.0\.0\.1:[0-9]+ h3 GET /no-such-file 404 ' "$log"

# 7. Paths that try to leave --root: ".." is a bad request (400), a symlink out is not found (404).
for path in /../secret.txt /sub/../../secret.txt /%2e%2e/secret.txt /%2E%2E%2Fsecret.txt /sub/..%2f..%2fsecret.txt \
  /../etc/passwd; do
  client -o - "$base$path"
  if [ "$rc" -eq 1 ] && ! grep -q -e 'top secret' -e 'root:' <<<"$out" && grep -q -x "error: $base$path: 400 Bad Request" <<<"$out"; then
    ok "refused $path with 400"
  else
    bad "refused $path with 400 (exit $rc): $out"
  fi
done
client -o - "$base/link-out.txt"
expect "symlink out of --root: 404 ($out)" grep -q -x "error: $base/link-out.txt: 404 Not Found" <<<"$out"
client -o - "$base/sub/inner.txt"
expect "server still serves after refusals" [ "$rc" -eq 0 ]
expect "server counted the refusals" grep -q -E 'closed: 1 requests, [0-9]+ bytes sent, .*\(ALPN h3, 1 refused\)' "$log"

# 8. Without --root: the built-in demo site, byte for byte the www/ directory.
log2=$work/builtin.log
start_server "$log2"
expect "built-in site announced" grep -q '^serving the built-in demo site$' "$log2"
client --download "$work/site" "https://127.0.0.1:$port/" "https://127.0.0.1:$port/style.css" \
  "https://127.0.0.1:$port/app.js" "https://127.0.0.1:$port/roam.png"
expect "built-in site: 4 URLs exit 0 ($out)" [ "$rc" -eq 0 ]
for f in index.html style.css app.js roam.png; do
  expect "built-in site: $f identical to www/$f" same_file "$www/$f" "$work/site/$f"
done
client --head "https://127.0.0.1:$port/roam.png"
expect "built-in site: the image is image/png" grep -q -x 'content-type: image/png' <<<"$out"
# The same site over hq-interop.
client --alpn hq-interop -o - "https://127.0.0.1:$port/style.css"
expect "built-in site over hq-interop" [ "$rc" -eq 0 ] && grep -q 'roam demo site' <<<"$out"
expect "request log: hq-interop" grep -q -E '^request 127\.0\.0\.1:[0-9]+ hq-interop GET /style\.css 200 ' "$log2"
exit $fail
