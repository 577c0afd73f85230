#include "tls/cipher_suite.h"
#include "tls/level.h"

namespace roam::tls {

std::string_view to_string(Level level) {
  switch (level) {
    case Level::kInitial: return "initial";
    case Level::kEarlyData: return "0rtt";
    case Level::kHandshake: return "handshake";
    case Level::kApplication: return "1rtt";
  }
  return "unknown";
}

std::string_view to_string(Direction direction) {
  return direction == Direction::kRead ? "read" : "write";
}

std::string_view to_string(const CipherSuite& suite) {
  if (suite == kAes128GcmSha256) return "TLS_AES_128_GCM_SHA256";
  if (suite == kAes256GcmSha384) return "TLS_AES_256_GCM_SHA384";
  if (suite == kChaCha20Poly1305Sha256) return "TLS_CHACHA20_POLY1305_SHA256";
  return "unknown";
}

}  // namespace roam::tls
