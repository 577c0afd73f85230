// The CRYPTO stream of one encryption level (RFC 9000 19.6, 7.5): the same send and receive
// buffers as STREAM data, without flow control and without FIN. Received data is buffered up to
// max_buffered bytes past the read offset (out-of-order data, plus in-order data TLS has not
// consumed yet, which it does at once); beyond that CRYPTO_BUFFER_EXCEEDED (RFC 9000 7.5 requires
// at least 4096).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/error.h"
#include "common/types.h"
#include "streams/recv_buffer.h"
#include "streams/send_buffer.h"

namespace roam::streams {

// A CRYPTO frame's contents for the builder; data valid until the next mutation of the stream.
struct CryptoChunk {
  std::uint64_t offset = 0;
  Bytes data;
};

class CryptoStream {
 public:
  static constexpr std::size_t kDefaultMaxBuffered = 64 * 1024;
  explicit CryptoStream(std::size_t max_buffered = kDefaultMaxBuffered)
      : recv_(max_buffered, TransportError::kCryptoBufferExceeded) {}

  // --- receiving (peer's TLS messages) ---
  // CRYPTO_BUFFER_EXCEEDED past the buffer, FRAME_ENCODING_ERROR past 2^62-1 (frame_type 0x06).
  Status on_crypto_frame(std::uint64_t offset, Bytes data);
  std::size_t readable() const { return recv_.readable(); }
  std::size_t read(MutBytes out) { return recv_.read(out); }
  Bytes peek() const { return recv_.peek(); }
  void consume(std::size_t n) { recv_.consume(n); }
  std::uint64_t read_offset() const { return recv_.read_offset(); }

  // --- sending (our TLS messages) ---
  void write(Bytes data) { send_.append(data); }
  // The next CRYPTO frame that fits in max_frame_size bytes (type, offset, length and data):
  // retransmissions first. nullopt if nothing to send or no room.
  std::optional<CryptoChunk> next_frame(std::size_t max_frame_size);
  bool has_pending() const { return !discarded_ && (send_.has_retransmit() || send_.has_unsent()); }
  bool has_unacked() const { return !discarded_ && send_.buffered() > 0; }
  void on_acked(std::uint64_t offset, std::uint64_t len) { send_.on_acked(offset, len, false); }
  void on_lost(std::uint64_t offset, std::uint64_t len) { send_.on_lost(offset, len, false); }

  // Keys for this level are gone: drop everything; further frames are ignored.
  void discard();
  bool discarded() const { return discarded_; }

 private:
  SendBuffer send_;
  RecvBuffer recv_;
  bool discarded_ = false;
};

}  // namespace roam::streams
