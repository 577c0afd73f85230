// The sending half of a byte stream's data: what the application wrote, what is in flight, what
// was lost and must be sent again, and what the peer acknowledged. Used for STREAM and CRYPTO data.
//
// Storage is a ByteRing holding offsets [acked_prefix(), end()): bytes are copied in once on
// append, handed out as views, and their space is reused as soon as the acknowledged prefix moves
// past them (see ByteRing for when a drained ring shrinks; it is freed once the FIN is
// acknowledged). Memory is therefore bounded by unacknowledged data (the stream layer caps that per
// stream) and a steady transfer does not allocate per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/types.h"
#include "streams/byte_ring.h"
#include "streams/range_set.h"

namespace roam::streams {

// A piece of stream data to put in one frame. `data` stays valid until the next call that mutates
// the buffer it came from. A chunk can be empty with fin set (a FIN-only frame).
struct SendChunk {
  std::uint64_t offset = 0;
  Bytes data;
  bool fin = false;
};

class SendBuffer {
 public:
  // Copies data to the end of the stream. Ignored after finish() or reset().
  void append(Bytes data);
  // Marks the end of the stream at the current end().
  void finish() { fin_ = true; }
  // Discards everything (RESET_STREAM sent or CRYPTO keys dropped); later calls are no-ops except
  // the accessors.
  void reset();

  // The next chunk to send, of at most max_bytes data bytes: lost ranges first (lowest offset
  // first; these already consumed flow-control credit), then a lost FIN, then new data below
  // flow_limit (an absolute offset: the caller folds stream and connection credit into it), then a
  // pending FIN. nullopt when nothing can be sent. A chunk ends early where the ring wraps; call
  // again to continue.
  std::optional<SendChunk> next_chunk(std::size_t max_bytes, std::uint64_t flow_limit);

  // A packet carrying [offset, offset + len) (and the FIN if fin) was acknowledged / declared lost.
  // Duplicates and overlaps are fine; only parts not yet acknowledged are queued for retransmission.
  void on_acked(std::uint64_t offset, std::uint64_t len, bool fin);
  void on_lost(std::uint64_t offset, std::uint64_t len, bool fin);

  // The offset the next chunk would start at (for sizing a frame header exactly).
  std::uint64_t next_offset() const {
    if (!lost_.empty()) return lost_.front().start;
    return fin_lost_ ? end_ : sent_high_;
  }
  // Bytes written so far (the final size once finished).
  std::uint64_t end() const { return end_; }
  // Every byte below this offset has been acknowledged (its storage is released).
  std::uint64_t acked_prefix() const { return acked_prefix_; }
  // Highest offset sent at least once: the flow-control credit consumed.
  std::uint64_t sent_high() const { return sent_high_; }
  // Unacknowledged bytes held (in flight, lost or not yet sent).
  std::uint64_t buffered() const { return end_ - acked_prefix_; }
  std::uint64_t unsent() const { return end_ - sent_high_; }
  std::size_t memory() const { return ring_.capacity(); }

  bool finished() const { return fin_; }
  bool fin_sent() const { return fin_sent_; }
  bool is_reset() const { return reset_; }
  // Something to retransmit (lost data or a lost FIN).
  bool has_retransmit() const { return !lost_.empty() || fin_lost_; }
  // New data not sent yet, or a FIN not sent yet.
  bool has_unsent() const { return sent_high_ < end_ || (fin_ && !fin_sent_); }
  // Everything written, including the FIN, has been acknowledged.
  bool all_acked() const { return fin_ && fin_acked_ && acked_prefix_ == end_; }

 private:
  void maybe_shrink();

  ByteRing ring_;
  std::uint64_t acked_prefix_ = 0;
  std::uint64_t sent_high_ = 0;
  std::uint64_t end_ = 0;
  RangeSet acked_;  // acknowledged ranges above acked_prefix_
  RangeSet lost_;   // ranges to retransmit; never overlaps acked data
  bool fin_ = false;
  bool fin_sent_ = false;
  bool fin_acked_ = false;
  bool fin_lost_ = false;
  bool reset_ = false;
};

}  // namespace roam::streams
