#include "tls/handshake_framer.h"

#include <algorithm>

namespace roam::tls {
namespace {

constexpr std::uint8_t kUnexpectedMessageAlert = 10;

bool allowed(bool receiver_is_server, Level level, HandshakeType type) {
  using T = HandshakeType;
  switch (level) {
    case Level::kInitial:
      return receiver_is_server ? type == T::kClientHello : type == T::kServerHello;
    case Level::kHandshake:
      if (type == T::kCertificate || type == T::kCertificateVerify || type == T::kFinished ||
          type == T::kCompressedCertificate) {
        return true;
      }
      return !receiver_is_server &&
             (type == T::kEncryptedExtensions || type == T::kCertificateRequest);
    case Level::kApplication:
      return !receiver_is_server && type == T::kNewSessionTicket;
    case Level::kEarlyData:
      return false;
  }
  return false;
}

}  // namespace

Status check_incoming_message(bool receiver_is_server, Level level, std::uint8_t type,
                              std::uint32_t length) {
  const auto t = static_cast<HandshakeType>(type);
  if (t == HandshakeType::kKeyUpdate) {
    // RFC 9001 section 6: QUIC has its own key update; a TLS KeyUpdate is unexpected_message.
    return Error{crypto_error(kUnexpectedMessageAlert), "TLS KeyUpdate message in QUIC"};
  }
  if (t == HandshakeType::kCertificateRequest && level == Level::kApplication &&
      !receiver_is_server) {
    // RFC 9001 section 4.4: no post-handshake client authentication.
    return Error{TransportError::kProtocolViolation, "post-handshake CertificateRequest"};
  }
  if (!allowed(receiver_is_server, level, t)) {
    return Error{crypto_error(kUnexpectedMessageAlert),
                 "TLS handshake message not expected at this encryption level"};
  }
  if (length > kMaxHandshakeMessage) {
    return Error{TransportError::kCryptoBufferExceeded, "TLS handshake message too large"};
  }
  return {};
}

Status HandshakeFramer::feed(Bytes data) {
  while (!data.empty()) {
    if (body_left_ > 0) {
      const std::size_t take = std::min<std::size_t>(body_left_, data.size());
      body_left_ -= static_cast<std::uint32_t>(take);
      data = data.subspan(take);
      if (body_left_ == 0) ++messages_complete_;
      continue;
    }
    const std::size_t take = std::min(header_.size() - header_have_, data.size());
    std::copy_n(data.begin(), take, header_.begin() + static_cast<long>(header_have_));
    header_have_ += take;
    data = data.subspan(take);
    if (header_have_ < header_.size()) break;
    const std::uint32_t length = std::uint32_t{header_[1]} << 16 |
                                 std::uint32_t{header_[2]} << 8 | header_[3];
    if (auto st = check_incoming_message(receiver_is_server_, level_, header_[0], length); !st) {
      return st;
    }
    header_have_ = 0;
    body_left_ = length;
    if (length == 0) ++messages_complete_;
  }
  return {};
}

}  // namespace roam::tls
