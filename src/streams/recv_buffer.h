// The receiving half of a byte stream's data: out-of-order reassembly, in-order delivery to the
// reader, and the final-size rules of RFC 9000 4.5. Used for STREAM and CRYPTO data.
//
// Storage is a ByteRing holding offsets [read_offset(), highest_received()); a received byte is
// copied once, into its final place. The span between the read offset and the end of any accepted
// data is capped (max_span): the flow-control window for streams (which the stream's flow
// controller enforces first), the CRYPTO reassembly limit for CRYPTO streams. A drained ring
// shrinks after bursts (see ByteRing) and is freed once the whole stream has been read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "common/error.h"
#include "common/types.h"
#include "streams/byte_ring.h"
#include "streams/range_set.h"

namespace roam::streams {

class RecvBuffer {
 public:
  // Data ending more than max_span bytes past the read offset is refused with span_error.
  explicit RecvBuffer(std::uint64_t max_span = std::numeric_limits<std::uint64_t>::max(),
                      TransportError span_error = TransportError::kFlowControlError)
      : max_span_(max_span), span_error_(span_error) {}

  // Checks a frame against the final-size rules, the offset limit and max_span without changing
  // anything: FINAL_SIZE_ERROR if it moves a known final size or carries data beyond it (or a FIN
  // below data already received); FRAME_ENCODING_ERROR past 2^62-1; span_error past max_span.
  Status validate(std::uint64_t offset, std::size_t len, bool fin) const;
  // validate(), then stores the bytes not received before. Overlaps and duplicates are fine (the
  // RFC requires identical data; it is not compared).
  Status insert(std::uint64_t offset, Bytes data, bool fin);
  // Records a final size learned from RESET_STREAM (same rules as a FIN) without data.
  Status set_final_size(std::uint64_t final_size);

  // Copies up to out.size() contiguous bytes and consumes them; returns the count.
  std::size_t read(MutBytes out);
  // Zero-copy: the next contiguous readable bytes (maybe fewer than readable() at the ring wrap);
  // valid until the next mutation. consume(n) with n <= readable() releases them.
  Bytes peek() const;
  void consume(std::size_t n);
  // Drops all stored data and frees the memory; reading stops. Received-offset bookkeeping and the
  // final-size rules stay in force.
  void discard();

  std::uint64_t read_offset() const { return read_offset_; }
  // Every byte below this offset has been received.
  std::uint64_t contiguous_end() const { return contiguous_end_; }
  std::uint64_t highest_received() const { return highest_; }
  std::size_t readable() const { return static_cast<std::size_t>(contiguous_end_ - read_offset_); }
  bool has_final_size() const { return has_final_; }
  std::uint64_t final_size() const { return final_size_; }
  // All data up to the final size has been received.
  bool all_received() const { return has_final_ && contiguous_end_ == final_size_; }
  // The reader has consumed everything up to the final size.
  bool fin_read() const { return has_final_ && read_offset_ == final_size_; }
  bool discarded() const { return discarded_; }
  std::size_t memory() const { return ring_.capacity(); }
  // Out-of-order ranges held above contiguous_end().
  std::size_t gaps() const { return ranges_.size(); }

 private:
  void maybe_shrink();

  ByteRing ring_;
  RangeSet ranges_;  // received ranges above contiguous_end_
  std::uint64_t read_offset_ = 0;
  std::uint64_t contiguous_end_ = 0;
  std::uint64_t highest_ = 0;
  std::uint64_t final_size_ = 0;
  std::uint64_t max_span_;
  TransportError span_error_;
  bool has_final_ = false;
  bool discarded_ = false;
};

}  // namespace roam::streams
