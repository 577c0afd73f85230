// Follows TLS handshake message boundaries in one encryption level's CRYPTO stream (each message
// is type(1) length(3) body), without buffering bodies: GnuTLS buffers and parses them. This lets
// the session enforce what RFC 9001 asks of QUIC rather than of TLS: which messages may arrive
// at which encryption level, no KeyUpdate (section 6), no post-handshake CertificateRequest
// (section 4.4), and no unconsumed data left at a level once keys move on (section 4.1.3).
#pragma once

#include <array>
#include <cstdint>

#include "common/error.h"
#include "common/types.h"
#include "tls/level.h"

namespace roam::tls {

// Handshake message types (RFC 8446 section 4).
enum class HandshakeType : std::uint8_t {
  kClientHello = 1,
  kServerHello = 2,  // also HelloRetryRequest
  kNewSessionTicket = 4,
  kEndOfEarlyData = 5,
  kEncryptedExtensions = 8,
  kCertificate = 11,
  kCertificateRequest = 13,
  kCertificateVerify = 15,
  kFinished = 20,
  kKeyUpdate = 24,
  kCompressedCertificate = 25,
};

// Largest handshake message accepted (certificate chains are the big ones).
inline constexpr std::uint32_t kMaxHandshakeMessage = 64 * 1024;

// Whether an endpoint (server or client) may receive this message at this level.
Status check_incoming_message(bool receiver_is_server, Level level, std::uint8_t type,
                              std::uint32_t length);

class HandshakeFramer {
 public:
  HandshakeFramer(bool receiver_is_server, Level level)
      : receiver_is_server_(receiver_is_server), level_(level) {}

  // Follows the next bytes of the stream, checking each message header as it completes.
  Status feed(Bytes data);

  // True between messages (no partial header or body pending).
  bool at_boundary() const { return header_have_ == 0 && body_left_ == 0; }
  // Messages whose last byte has been fed.
  std::uint64_t messages_complete() const { return messages_complete_; }

 private:
  bool receiver_is_server_;
  Level level_;
  std::array<std::uint8_t, 4> header_{};
  std::size_t header_have_ = 0;
  std::uint32_t body_left_ = 0;
  std::uint64_t messages_complete_ = 0;
};

}  // namespace roam::tls
