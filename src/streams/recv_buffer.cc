#include "streams/recv_buffer.h"

#include <algorithm>

#include "streams/stream_id.h"

namespace roam::streams {
Status RecvBuffer::validate(std::uint64_t offset, std::size_t len, bool fin) const {
  if (offset > kMaxStreamOffset || len > kMaxStreamOffset - offset) {
    return Error{TransportError::kFrameEncodingError, "stream offset beyond 2^62-1"};
  }
  const std::uint64_t end = offset + len;
  if (has_final_) {
    if (end > final_size_) return Error{TransportError::kFinalSizeError, "data beyond the final size"};
    if (fin && end != final_size_) return Error{TransportError::kFinalSizeError, "final size changed"};
  } else if (fin && end < highest_) {
    return Error{TransportError::kFinalSizeError, "final size below data already received"};
  }
  if (end > contiguous_end_ && end - read_offset_ > max_span_) {
    return Error{span_error_, span_error_ == TransportError::kCryptoBufferExceeded
                                  ? "CRYPTO data beyond the reassembly buffer"
                                  : "stream data beyond the receive window"};
  }
  return {};
}

Status RecvBuffer::insert(std::uint64_t offset, Bytes data, bool fin) {
  if (Status s = validate(offset, data.size(), fin); !s) return s;
  const std::uint64_t end = offset + data.size();
  if (fin) {
    has_final_ = true;
    final_size_ = end;
  }
  highest_ = std::max(highest_, end);
  if (end <= contiguous_end_) return {};
  const std::uint64_t start = std::max(offset, contiguous_end_);
  if (!discarded_) {
    ring_.reserve(read_offset_, end, std::max(contiguous_end_, ranges_.empty() ? 0 : ranges_.back().end));
    ring_.write(start, data.subspan(static_cast<std::size_t>(start - offset)));
  }
  if (start == contiguous_end_) {
    contiguous_end_ = end;
    while (!ranges_.empty() && ranges_.front().start <= contiguous_end_) {
      contiguous_end_ = std::max(contiguous_end_, ranges_.front().end);
      ranges_.erase_below(contiguous_end_);
    }
  } else {
    ranges_.insert(start, end);
  }
  if (discarded_) read_offset_ = contiguous_end_;
  return {};
}

Status RecvBuffer::set_final_size(std::uint64_t final_size) {
  if (final_size > kMaxStreamOffset) return Error{TransportError::kFrameEncodingError, "final size beyond 2^62-1"};
  if (has_final_ && final_size != final_size_) return Error{TransportError::kFinalSizeError, "final size changed"};
  if (final_size < highest_) return Error{TransportError::kFinalSizeError, "final size below data already received"};
  has_final_ = true;
  final_size_ = final_size;
  highest_ = final_size;
  return {};
}

std::size_t RecvBuffer::read(MutBytes out) {
  const std::size_t n = std::min(out.size(), readable());
  if (n == 0) return 0;
  ring_.copy_out(read_offset_, out.first(n));
  consume(n);
  return n;
}

Bytes RecvBuffer::peek() const { return ring_.view(read_offset_, readable()); }

void RecvBuffer::consume(std::size_t n) {
  read_offset_ += std::min<std::uint64_t>(n, readable());
  maybe_shrink();
}

void RecvBuffer::discard() {
  discarded_ = true;
  read_offset_ = contiguous_end_;
  ring_.release();  // ranges_ stays: it still tells when everything has arrived
}

void RecvBuffer::maybe_shrink() {
  if (discarded_ || read_offset_ != contiguous_end_ || !ranges_.empty()) return;
  if (all_received()) {
    ring_.release();  // the stream is complete
  } else {
    ring_.on_drained(read_offset_);
  }
}

}  // namespace roam::streams
