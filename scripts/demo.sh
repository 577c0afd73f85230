#!/usr/bin/env bash
# The main demo: installs what is missing, builds, starts roam-server on loopback and runs
# roam-client against it: a 50 MB perf download with every byte checked, then an echo.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target roam-server roam-client

port=${PORT:-4433}
build/apps/roam-server --listen "127.0.0.1:$port" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
sleep 0.5

echo "--- roam-client: perf download of ${BYTES:-50000000} bytes"
build/apps/roam-client "127.0.0.1:$port" --insecure --perf "${BYTES:-50000000}"
echo "--- roam-client: echo"
build/apps/roam-client "127.0.0.1:$port" --insecure --alpn echo --echo "a connection is who you are, not where you are"
