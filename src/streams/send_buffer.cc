#include "streams/send_buffer.h"

#include <algorithm>

namespace roam::streams {
void SendBuffer::append(Bytes data) {
  if (fin_ || reset_ || data.empty()) return;
  ring_.reserve(acked_prefix_, end_ + data.size(), end_);
  ring_.write(end_, data);
  end_ += data.size();
}

void SendBuffer::reset() {
  reset_ = true;
  ring_.release();
  acked_.clear();
  lost_.clear();
  fin_lost_ = false;
}

std::optional<SendChunk> SendBuffer::next_chunk(std::size_t max_bytes, std::uint64_t flow_limit) {
  if (reset_) return std::nullopt;
  if (!lost_.empty() && max_bytes > 0) {
    const ByteRange r = lost_.front();
    const Bytes data = ring_.view(r.start, static_cast<std::size_t>(std::min<std::uint64_t>(r.size(), max_bytes)));
    const std::uint64_t chunk_end = r.start + data.size();
    lost_.erase(r.start, chunk_end);
    SendChunk c{r.start, data, false};
    if (fin_lost_ && chunk_end == end_) {
      c.fin = true;
      fin_lost_ = false;
    }
    return c;
  }
  if (fin_lost_ && lost_.empty()) {
    fin_lost_ = false;
    return SendChunk{end_, {}, true};
  }
  if (sent_high_ < end_) {
    const std::uint64_t limit = std::min(end_, flow_limit);
    if (limit <= sent_high_ || max_bytes == 0) return std::nullopt;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(limit - sent_high_, max_bytes));
    SendChunk c{sent_high_, ring_.view(sent_high_, want), false};
    sent_high_ += c.data.size();
    if (fin_ && sent_high_ == end_) {
      c.fin = true;
      fin_sent_ = true;
    }
    return c;
  }
  if (fin_ && !fin_sent_) {
    fin_sent_ = true;
    return SendChunk{end_, {}, true};
  }
  return std::nullopt;
}

void SendBuffer::on_acked(std::uint64_t offset, std::uint64_t len, bool fin) {
  if (reset_) return;
  const std::uint64_t end = std::min(offset + len, sent_high_);
  if (fin && fin_sent_ && offset + len == end_) {
    fin_acked_ = true;
    fin_lost_ = false;
  }
  if (end <= acked_prefix_ || offset >= end) return;
  lost_.erase(offset, end);
  if (offset <= acked_prefix_) {
    acked_prefix_ = end;
    while (!acked_.empty() && acked_.front().start <= acked_prefix_) {
      acked_prefix_ = std::max(acked_prefix_, acked_.front().end);
      acked_.erase_below(acked_prefix_);
    }
    maybe_shrink();
  } else {
    acked_.insert(offset, end);
  }
}

void SendBuffer::on_lost(std::uint64_t offset, std::uint64_t len, bool fin) {
  if (reset_) return;
  if (fin && fin_sent_ && !fin_acked_ && offset + len == end_) fin_lost_ = true;
  const std::uint64_t start = std::max(offset, acked_prefix_);
  const std::uint64_t end = std::min(offset + len, sent_high_);
  acked_.for_each_gap(start, end, [this](std::uint64_t s, std::uint64_t e) { lost_.insert(s, e); });
}

void SendBuffer::maybe_shrink() {
  if (acked_prefix_ != end_) return;
  if (fin_) {
    ring_.release();  // nothing more can be written
  } else {
    ring_.on_drained(acked_prefix_);
  }
}

}  // namespace roam::streams
