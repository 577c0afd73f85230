#!/usr/bin/env bash
# End-to-end HTTP/0.9 (roam-client --alpn hq-interop) over real loopback sockets: roam-server --root serving a temp
# directory, roam-client downloading from it as a user would. Checks byte-exact downloads (sha256),
# several URLs over one connection, standard output in URL order, more streams than the server's
# stream limit, many clients at once, and the one-line errors for missing files and paths that
# try to leave --root.
set -u
bin=$1
fail=0
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
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
  out=$(timeout 60 "$bin/roam-client" --alpn hq-interop --insecure "$@" 2>&1)
  rc=$?
}
same_file() { [ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]; }

# The served tree, and a secret next to it that must stay out of reach.
root=$work/root
mkdir -p "$root/sub" "$root/many"
: >"$root/empty.txt"
head -c 5000000 /dev/urandom >"$root/big.bin"
printf 'inside a subdirectory\n' >"$root/sub/inner.txt"
printf 'a name with a space\n' >"$root/with space.txt"
for i in $(seq 1 150); do printf 'file %d\n' "$i" >"$root/many/f$i.txt"; done
printf 'top secret\n' >"$work/secret.txt"
ln -s ../secret.txt "$root/link-out.txt"

"$bin/roam-server" --listen 127.0.0.1:0 --root "$root" >"$work/server.log" 2>&1 &
server=$!
port=
for _ in $(seq 1 50); do
  port=$(sed -n -E 's/^roam-server listening on 127\.0\.0\.1:([0-9]+) .*/\1/p' "$work/server.log")
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "FAIL roam-server did not start:"
  cat "$work/server.log"
  exit 1
fi
base=https://127.0.0.1:$port
connections() { grep -c '^connection from .* closed: ' "$work/server.log"; }

# 1. Several files in one invocation, over one connection, byte-exact.
dl=$work/dl
before=$(connections)
client --download "$dl" "$base/big.bin" "$base/empty.txt" "$base/sub/inner.txt" "$base/with%20space.txt"
expect "download of 4 URLs exits 0 ($out)" [ "$rc" -eq 0 ]
expect "5 MB file identical" same_file "$root/big.bin" "$dl/big.bin"
expect "empty file downloaded, empty" [ -f "$dl/empty.txt" ] && [ ! -s "$dl/empty.txt" ]
expect "file from a subdirectory identical" same_file "$root/sub/inner.txt" "$dl/inner.txt"
expect "percent-encoded name identical" same_file "$root/with space.txt" "$dl/with%20space.txt"
expect "no partial files left" [ -z "$(find "$dl" -name '*.part')" ]
expect "summary line" grep -q -E '^received 5\.0 MB in .* over 4 streams, goodput .* Mbit/s, rtt .* ms, [0-9]+ packets lost' <<<"$out"
sleep 0.3
expect "the 4 URLs shared one connection" [ "$(($(connections) - before))" -eq 1 ]
expect "server counted 4 requests on it" grep -q 'closed: 4 requests, 5000042 bytes sent' "$work/server.log"

# 2. Standard output: one body piped to sha256sum, then several bodies in URL order.
sum=$(timeout 60 "$bin/roam-client" --alpn hq-interop --insecure -o - "$base/big.bin" 2>/dev/null | sha256sum)
expect "-o - piped to sha256sum" [ "$sum" = "$(sha256sum <"$root/big.bin")" ]
timeout 60 "$bin/roam-client" --alpn hq-interop --insecure -q "$base/sub/inner.txt" "$base/big.bin" "$base/many/f7.txt" >"$work/cat.out"
expect "several URLs to stdout, in URL order" \
  same_file <(cat "$root/sub/inner.txt" "$root/big.bin" "$root/many/f7.txt") "$work/cat.out"
client -o "$work/one.bin" "$base/big.bin"
expect "-o FILE" same_file "$root/big.bin" "$work/one.bin"
client -o - "https://localhost:$port/sub/inner.txt"
expect "host name localhost resolves" grep -q '^inside a subdirectory$' <<<"$out"

# 3. More streams than the server allows at once (100), on one connection.
urls=()
for i in $(seq 1 150); do urls+=("$base/many/f$i.txt"); done
client --download "$work/many" "${urls[@]}"
expect "150 files over one connection exit 0" [ "$rc" -eq 0 ]
expect "150 files identical" diff -r "$root/many" "$work/many"

# 4. Many clients at once.
pids=()
for i in $(seq 1 20); do
  timeout 60 "$bin/roam-client" --alpn hq-interop --insecure -q -o "$work/par$i.bin" "$base/big.bin" &
  pids+=($!)
done
par_fail=0
for p in "${pids[@]}"; do wait "$p" || par_fail=1; done
for i in $(seq 1 20); do same_file "$root/big.bin" "$work/par$i.bin" || par_fail=1; done
expect "20 concurrent clients each got the 5 MB file" [ "$par_fail" -eq 0 ]

# 5. A missing file: one line, non-zero exit, nothing saved.
client --download "$work/miss" "$base/no-such-file"
expect "missing file exits 1" [ "$rc" -eq 1 ]
expect "missing file: one error line" [ "$(wc -l <<<"$out")" -eq 1 ]
expect "missing file: says not found" grep -q -E "^error: $base/no-such-file: not found" <<<"$out"
expect "missing file: nothing saved" [ -z "$(ls -A "$work/miss")" ]
client --download "$work/mixed" "$base/sub/inner.txt" "$base/nope.txt"
expect "one good, one missing: exit 1, good one saved" [ "$rc" -eq 1 ] && same_file "$root/sub/inner.txt" "$work/mixed/inner.txt"
expect "one good, one missing: one error line" [ "$(grep -c '^error: ' <<<"$out")" -eq 1 ]

# 6. Paths that try to leave --root are refused, however they are spelled.
for path in /../secret.txt /sub/../../secret.txt /%2e%2e/secret.txt /%2E%2E%2Fsecret.txt /link-out.txt \
  /../etc/passwd /sub/; do
  client -o - "$base$path"
  if [ "$rc" -eq 1 ] && ! grep -q -e 'top secret' -e 'root:' <<<"$out" && grep -q '^error: ' <<<"$out"; then
    ok "refused $path"
  else
    bad "refused $path (exit $rc): $out"
  fi
done

# 7. The server stays healthy and reports what it refused.
client -o - "$base/sub/inner.txt"
expect "server still serves after refusals" [ "$rc" -eq 0 ]
expect "server counted refused requests" grep -q -E 'closed: 1 requests, 0 bytes sent, .*1 refused' "$work/server.log"
exit $fail
