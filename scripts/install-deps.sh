#!/usr/bin/env bash
# Installs every Debian 12 package roam needs. A quick no-op when all are present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev          # libFuzzer + sanitizers for fuzz targets
  libgnutls28-dev libssl-dev        # TLS 1.3 (GnuTLS QUIC API) and packet protection
  libnghttp3-dev                    # HTTP/3 and QPACK
  libcli11-dev                      # command-line parsing for the apps
  libgtest-dev libgmock-dev libbenchmark-dev
  gnutls-bin                        # certtool, for tests that check certificates
  tshark                            # decodes captures in the tshark test
  ngtcp2-client ngtcp2-server       # independent QUIC/HTTP3 peer (gtlsclient, gtlsserver)
  golang-go golang-github-lucas-clemente-quic-go-dev   # independent QUIC peer (quic-go 0.29)
  chromium openssl                  # a browser loading roam-server's page over HTTP/3 (interop test)
  iproute2 procps
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
