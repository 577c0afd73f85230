// encode_frame, encoded_size and encode_ack: per frame type, a validity check, a size and a writer.
#include "wire/frames.h"

#include <algorithm>

namespace roam::wire {
namespace {

namespace ft = frame_type;

constexpr bool fits(std::uint64_t v) { return v <= kVarintMax; }

// Ranges must be descending, each non-empty, separated by at least one missing packet (a Gap field
// of 0 or more), and the first must end at `largest`.
bool ack_ranges_valid(std::uint64_t largest, std::span<const AckRange> ranges) {
  if (ranges.empty() || ranges[0].largest != largest) return false;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (!fits(ranges[i].largest) || ranges[i].smallest > ranges[i].largest) return false;
    if (i > 0 && ranges[i].largest + 2 > ranges[i - 1].smallest) return false;
  }
  return true;
}

bool ecn_valid(const EcnCounts* ecn) { return ecn == nullptr || (fits(ecn->ect0) && fits(ecn->ect1) && fits(ecn->ce)); }

std::uint64_t ack_gap(std::span<const AckRange> ranges, std::size_t i) {
  return ranges[i - 1].smallest - ranges[i].largest - 2;
}

// Bytes taken by range i >= 1 (its Gap and ACK Range Length fields).
std::size_t ack_range_size(std::span<const AckRange> ranges, std::size_t i) {
  return varint_size(ack_gap(ranges, i)) + varint_size(ranges[i].largest - ranges[i].smallest);
}

std::size_t ecn_size(const EcnCounts* ecn) {
  return ecn == nullptr ? 0 : varint_size(ecn->ect0) + varint_size(ecn->ect1) + varint_size(ecn->ce);
}

// Size of an ACK frame holding the first k ranges, given the summed size of ranges 1..k-1.
std::size_t ack_size(std::uint64_t delay, std::span<const AckRange> ranges, std::size_t k, std::size_t tail,
                     const EcnCounts* ecn) {
  return 1 + varint_size(ranges[0].largest) + varint_size(delay) + varint_size(k - 1) +
         varint_size(ranges[0].largest - ranges[0].smallest) + tail + ecn_size(ecn);
}

void write_ack(Writer& w, std::uint64_t delay, std::span<const AckRange> ranges, const EcnCounts* ecn) {
  w.write_varint(ecn != nullptr ? ft::kAckEcn : ft::kAck);
  w.write_varint(ranges[0].largest);
  w.write_varint(delay);
  w.write_varint(ranges.size() - 1);
  w.write_varint(ranges[0].largest - ranges[0].smallest);
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    w.write_varint(ack_gap(ranges, i));
    w.write_varint(ranges[i].largest - ranges[i].smallest);
  }
  if (ecn != nullptr) {
    w.write_varint(ecn->ect0);
    w.write_varint(ecn->ect1);
    w.write_varint(ecn->ce);
  }
}

const EcnCounts* ecn_ptr(const AckFrame& f) { return f.ecn ? &*f.ecn : nullptr; }

bool stream_data_valid(std::uint64_t offset, std::size_t len) { return fits(offset) && len <= kMaxStreamOffset - offset; }

struct Validate {
  bool operator()(const PaddingFrame& f) const { return f.length >= 1; }
  bool operator()(const PingFrame&) const { return true; }
  bool operator()(const AckFrame& f) const {
    return fits(f.ack_delay) && ack_ranges_valid(f.largest, f.ranges) && ecn_valid(ecn_ptr(f));
  }
  bool operator()(const ResetStreamFrame& f) const {
    return fits(f.stream_id.value) && fits(f.app_error) && fits(f.final_size);
  }
  bool operator()(const StopSendingFrame& f) const { return fits(f.stream_id.value) && fits(f.app_error); }
  bool operator()(const CryptoFrame& f) const { return stream_data_valid(f.offset, f.data.size()); }
  bool operator()(const NewTokenFrame& f) const { return !f.token.empty() && fits(f.token.size()); }
  bool operator()(const StreamFrame& f) const {
    return fits(f.stream_id.value) && stream_data_valid(f.offset, f.data.size());
  }
  bool operator()(const MaxDataFrame& f) const { return fits(f.max); }
  bool operator()(const MaxStreamDataFrame& f) const { return fits(f.stream_id.value) && fits(f.max); }
  bool operator()(const MaxStreamsFrame& f) const { return f.max <= kMaxStreamCount; }
  bool operator()(const DataBlockedFrame& f) const { return fits(f.limit); }
  bool operator()(const StreamDataBlockedFrame& f) const { return fits(f.stream_id.value) && fits(f.limit); }
  bool operator()(const StreamsBlockedFrame& f) const { return f.limit <= kMaxStreamCount; }
  bool operator()(const NewConnectionIdFrame& f) const {
    return fits(f.seq) && f.retire_prior_to <= f.seq && !f.cid.empty() && f.cid.size() <= ConnectionId::kMaxLength;
  }
  bool operator()(const RetireConnectionIdFrame& f) const { return fits(f.seq); }
  bool operator()(const PathChallengeFrame&) const { return true; }
  bool operator()(const PathResponseFrame&) const { return true; }
  bool operator()(const ConnectionCloseFrame& f) const {
    return fits(f.error_code) && (f.application || fits(f.frame_type)) && fits(f.reason.size());
  }
  bool operator()(const HandshakeDoneFrame&) const { return true; }
  bool operator()(const DatagramFrame& f) const { return fits(f.data.size()); }
};

struct Size {
  static std::size_t vs(std::uint64_t v) { return varint_size(v); }
  std::size_t operator()(const PaddingFrame& f) const { return f.length; }
  std::size_t operator()(const PingFrame&) const { return 1; }
  std::size_t operator()(const AckFrame& f) const {
    if (f.ranges.empty()) return 0;
    std::size_t tail = 0;
    for (std::size_t i = 1; i < f.ranges.size(); ++i) tail += ack_range_size(f.ranges, i);
    return ack_size(f.ack_delay, f.ranges, f.ranges.size(), tail, ecn_ptr(f));
  }
  std::size_t operator()(const ResetStreamFrame& f) const {
    return 1 + vs(f.stream_id.value) + vs(f.app_error) + vs(f.final_size);
  }
  std::size_t operator()(const StopSendingFrame& f) const { return 1 + vs(f.stream_id.value) + vs(f.app_error); }
  std::size_t operator()(const CryptoFrame& f) const { return crypto_frame_overhead(f.offset, f.data.size()) + f.data.size(); }
  std::size_t operator()(const NewTokenFrame& f) const { return 1 + vs(f.token.size()) + f.token.size(); }
  std::size_t operator()(const StreamFrame& f) const {
    return stream_frame_overhead(f.stream_id, f.offset, f.data.size(), f.has_length) + f.data.size();
  }
  std::size_t operator()(const MaxDataFrame& f) const { return 1 + vs(f.max); }
  std::size_t operator()(const MaxStreamDataFrame& f) const { return 1 + vs(f.stream_id.value) + vs(f.max); }
  std::size_t operator()(const MaxStreamsFrame& f) const { return 1 + vs(f.max); }
  std::size_t operator()(const DataBlockedFrame& f) const { return 1 + vs(f.limit); }
  std::size_t operator()(const StreamDataBlockedFrame& f) const { return 1 + vs(f.stream_id.value) + vs(f.limit); }
  std::size_t operator()(const StreamsBlockedFrame& f) const { return 1 + vs(f.limit); }
  std::size_t operator()(const NewConnectionIdFrame& f) const {
    return 1 + vs(f.seq) + vs(f.retire_prior_to) + 1 + f.cid.size() + f.reset_token.size();
  }
  std::size_t operator()(const RetireConnectionIdFrame& f) const { return 1 + vs(f.seq); }
  std::size_t operator()(const PathChallengeFrame& f) const { return 1 + f.data.size(); }
  std::size_t operator()(const PathResponseFrame& f) const { return 1 + f.data.size(); }
  std::size_t operator()(const ConnectionCloseFrame& f) const {
    return 1 + vs(f.error_code) + (f.application ? 0 : vs(f.frame_type)) + vs(f.reason.size()) + f.reason.size();
  }
  std::size_t operator()(const HandshakeDoneFrame&) const { return 1; }
  std::size_t operator()(const DatagramFrame& f) const { return datagram_frame_overhead(f.data.size(), f.has_length) + f.data.size(); }
};

// Writes a frame already validated and known to fit.
struct Encode {
  Writer& w;
  std::uint64_t type;

  void operator()(const PaddingFrame& f) const { w.write_zeros(f.length); }
  void operator()(const PingFrame&) const { w.write_varint(type); }
  void operator()(const AckFrame& f) const { write_ack(w, f.ack_delay, f.ranges, ecn_ptr(f)); }
  void operator()(const ResetStreamFrame& f) const {
    w.write_varint(type);
    w.write_varint(f.stream_id.value);
    w.write_varint(f.app_error);
    w.write_varint(f.final_size);
  }
  void operator()(const StopSendingFrame& f) const {
    w.write_varint(type);
    w.write_varint(f.stream_id.value);
    w.write_varint(f.app_error);
  }
  void operator()(const CryptoFrame& f) const {
    w.write_varint(type);
    w.write_varint(f.offset);
    w.write_varint(f.data.size());
    w.write_bytes(f.data);
  }
  void operator()(const NewTokenFrame& f) const {
    w.write_varint(type);
    w.write_varint(f.token.size());
    w.write_bytes(f.token);
  }
  void operator()(const StreamFrame& f) const {
    w.write_varint(type);
    w.write_varint(f.stream_id.value);
    if (f.offset != 0) w.write_varint(f.offset);
    if (f.has_length) w.write_varint(f.data.size());
    w.write_bytes(f.data);
  }
  void operator()(const MaxDataFrame& f) const { one(f.max); }
  void operator()(const MaxStreamDataFrame& f) const { two(f.stream_id.value, f.max); }
  void operator()(const MaxStreamsFrame& f) const { one(f.max); }
  void operator()(const DataBlockedFrame& f) const { one(f.limit); }
  void operator()(const StreamDataBlockedFrame& f) const { two(f.stream_id.value, f.limit); }
  void operator()(const StreamsBlockedFrame& f) const { one(f.limit); }
  void operator()(const NewConnectionIdFrame& f) const {
    two(f.seq, f.retire_prior_to);
    w.write_u8(static_cast<std::uint8_t>(f.cid.size()));
    w.write_bytes(f.cid.bytes());
    w.write_bytes(f.reset_token);
  }
  void operator()(const RetireConnectionIdFrame& f) const { one(f.seq); }
  void operator()(const PathChallengeFrame& f) const {
    w.write_varint(type);
    w.write_bytes(f.data);
  }
  void operator()(const PathResponseFrame& f) const {
    w.write_varint(type);
    w.write_bytes(f.data);
  }
  void operator()(const ConnectionCloseFrame& f) const {
    w.write_varint(type);
    w.write_varint(f.error_code);
    if (!f.application) w.write_varint(f.frame_type);
    w.write_varint(f.reason.size());
    w.write_bytes(f.reason);
  }
  void operator()(const HandshakeDoneFrame&) const { w.write_varint(type); }
  void operator()(const DatagramFrame& f) const {
    w.write_varint(type);
    if (f.has_length) w.write_varint(f.data.size());
    w.write_bytes(f.data);
  }

 private:
  void one(std::uint64_t a) const {
    w.write_varint(type);
    w.write_varint(a);
  }
  void two(std::uint64_t a, std::uint64_t b) const {
    w.write_varint(type);
    w.write_varint(a);
    w.write_varint(b);
  }
};

}  // namespace

std::size_t encoded_size(const Frame& f) { return std::visit(Size{}, f); }

bool encode_frame(Writer& w, const Frame& f) {
  if (!w.ok() || !std::visit(Validate{}, f)) return false;
  if (encoded_size(f) > w.remaining()) return false;
  std::visit(Encode{w, frame_type_of(f)}, f);
  return w.ok();
}

std::size_t encode_ack(Writer& w, std::uint64_t ack_delay_encoded, std::span<const AckRange> ranges_descending,
                       const EcnCounts* ecn, std::size_t max_ranges) {
  if (!w.ok() || max_ranges == 0 || !fits(ack_delay_encoded) || !ecn_valid(ecn) || ranges_descending.empty() ||
      !ack_ranges_valid(ranges_descending[0].largest, ranges_descending)) {
    return 0;
  }
  const auto& ranges = ranges_descending;
  if (ack_size(ack_delay_encoded, ranges, 1, 0, ecn) > w.remaining()) return 0;
  // The size grows with every range added (and with the Range Count field), so take ranges while
  // the frame still fits.
  std::size_t k = 1, tail = 0;
  const std::size_t limit = std::min(max_ranges, ranges.size());
  while (k < limit) {
    const std::size_t next_tail = tail + ack_range_size(ranges, k);
    if (ack_size(ack_delay_encoded, ranges, k + 1, next_tail, ecn) > w.remaining()) break;
    tail = next_tail;
    ++k;
  }
  write_ack(w, ack_delay_encoded, ranges.first(k), ecn);
  return w.ok() ? k : 0;
}

}  // namespace roam::wire
