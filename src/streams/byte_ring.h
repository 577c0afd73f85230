// Storage for a window of a byte stream addressed by absolute stream offset: a power-of-two ring
// in which offset o lives at index o & (capacity - 1). Any `capacity` consecutive offsets map to
// distinct slots, so the owner keeps every live byte inside [base, base + capacity) and the ring
// never needs per-write bookkeeping or per-packet allocation. It grows by doubling (relocating
// live bytes). When the owner has drained it (nothing live), it shrinks only if it is far larger
// than what the cycle that just ended needed: a steady flow keeps its ring (no allocation churn,
// no page faults), a one-off burst gives its memory back at the next drain after a smaller cycle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/types.h"

namespace roam::streams {

class ByteRing {
 public:
  std::size_t capacity() const { return cap_; }

  // Makes room for offsets [base, end): afterwards end - base <= capacity(). Bytes at offsets
  // [base, live_end) keep their values. Precondition: base <= live_end <= end.
  void reserve(std::uint64_t base, std::uint64_t end, std::uint64_t live_end);
  // Reallocates to the smallest power of two >= max(live_end - base, min_capacity) if that is
  // smaller than the current capacity, keeping [base, live_end); min_capacity 0 with an empty
  // live range frees the memory.
  void shrink(std::uint64_t base, std::uint64_t live_end, std::size_t min_capacity);
  void release() {
    data_.reset();
    cap_ = 0;
    peak_ = 0;
  }
  // The owner holds no live bytes (everything below `base` is gone). Shrinks per the policy above
  // and starts a new usage cycle.
  void on_drained(std::uint64_t base);

  // Precondition: [offset, offset + data.size()) lies in the reserved window.
  void write(std::uint64_t offset, Bytes data);
  // The longest contiguous run of at most max_len bytes starting at offset (stops at the wrap).
  Bytes view(std::uint64_t offset, std::size_t max_len) const;
  // Copies out.size() bytes starting at offset, across the wrap if needed.
  void copy_out(std::uint64_t offset, MutBytes out) const;

 private:
  void relocate(std::size_t new_cap, std::uint64_t base, std::uint64_t live_end);
  std::size_t index(std::uint64_t offset) const { return static_cast<std::size_t>(offset & (cap_ - 1)); }

  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t cap_ = 0;   // 0 or a power of two
  std::uint64_t peak_ = 0;  // largest span reserved since the last drain
};

}  // namespace roam::streams
