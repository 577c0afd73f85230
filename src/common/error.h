// Transport error codes (RFC 9000 section 20.1) and the Result type every fallible call returns.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>

namespace roam {

enum class TransportError : std::uint64_t {
  kNoError = 0x00,
  kInternalError = 0x01,
  kConnectionRefused = 0x02,
  kFlowControlError = 0x03,
  kStreamLimitError = 0x04,
  kStreamStateError = 0x05,
  kFinalSizeError = 0x06,
  kFrameEncodingError = 0x07,
  kTransportParameterError = 0x08,
  kConnectionIdLimitError = 0x09,
  kProtocolViolation = 0x0a,
  kInvalidToken = 0x0b,
  kApplicationError = 0x0c,
  kCryptoBufferExceeded = 0x0d,
  kKeyUpdateError = 0x0e,
  kAeadLimitReached = 0x0f,
  kNoViablePath = 0x10,
  kCryptoError = 0x100,  // 0x100 + TLS alert code
};

constexpr TransportError crypto_error(std::uint8_t tls_alert) {
  return static_cast<TransportError>(0x100u + tls_alert);
}

std::string_view to_string(TransportError e);

// An error as a value: the RFC error code, a static human-readable reason and, when a frame
// caused it, the frame type (carried in CONNECTION_CLOSE).
struct Error {
  TransportError code = TransportError::kInternalError;
  std::string_view reason;  // must point to static storage
  std::uint64_t frame_type = 0;
};

// A minimal expected-like type: either a value or an error (by default an Error with the RFC
// code; the datapath uses it with its own errno-carrying error type). The core never throws.
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::move(error)) {}            // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : err_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return err_; }

 private:
  E err_{};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace roam
