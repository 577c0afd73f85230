#include "streams/crypto_stream.h"

#include <algorithm>
#include <limits>

#include "streams/frame_size.h"

namespace roam::streams {
namespace {

constexpr std::uint64_t kCryptoFrameType = 0x06;

}  // namespace

Status CryptoStream::on_crypto_frame(std::uint64_t offset, Bytes data) {
  if (discarded_) return {};
  Status s = recv_.insert(offset, data, false);
  if (!s) {
    Error e = s.error();
    e.frame_type = kCryptoFrameType;
    return e;
  }
  return {};
}

std::optional<CryptoChunk> CryptoStream::next_frame(std::size_t max_frame_size) {
  if (discarded_) return std::nullopt;
  const std::size_t header = crypto_frame_header(send_.next_offset());
  if (max_frame_size <= header) return std::nullopt;
  const std::size_t max_data = max_payload_with_length(max_frame_size - header);
  if (max_data == 0) return std::nullopt;
  auto c = send_.next_chunk(max_data, std::numeric_limits<std::uint64_t>::max());
  if (!c || c->data.empty()) return std::nullopt;
  return CryptoChunk{c->offset, c->data};
}

void CryptoStream::discard() {
  discarded_ = true;
  send_.reset();
  recv_.discard();
}

}  // namespace roam::streams
