#include "streams/byte_ring.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace roam::streams {
namespace {

constexpr std::size_t kMinCapacity = 256;
// A drained ring above this size is a candidate for shrinking...
constexpr std::size_t kKeepCapacity = 64 * 1024;
// ...if it is at least this many times larger than the last cycle's peak use.
constexpr std::uint64_t kShrinkFactor = 8;

std::size_t round_up_pow2(std::uint64_t n) {
  return std::bit_ceil(static_cast<std::size_t>(std::max<std::uint64_t>(n, kMinCapacity)));
}

}  // namespace

void ByteRing::reserve(std::uint64_t base, std::uint64_t end, std::uint64_t live_end) {
  const std::uint64_t need = end - base;
  peak_ = std::max(peak_, need);
  if (need <= cap_) return;
  relocate(round_up_pow2(need), base, live_end);
}

void ByteRing::shrink(std::uint64_t base, std::uint64_t live_end, std::size_t min_capacity) {
  const std::uint64_t live = live_end - base;
  if (live == 0 && min_capacity == 0) {
    release();
    return;
  }
  const std::size_t target = round_up_pow2(std::max<std::uint64_t>(live, min_capacity));
  if (target < cap_) relocate(target, base, live_end);
}

void ByteRing::on_drained(std::uint64_t base) {
  if (cap_ > kKeepCapacity && cap_ >= kShrinkFactor * peak_) {
    shrink(base, base, static_cast<std::size_t>(std::max<std::uint64_t>(kKeepCapacity, 2 * peak_)));
  }
  peak_ = 0;
}

void ByteRing::relocate(std::size_t new_cap, std::uint64_t base, std::uint64_t live_end) {
  auto fresh = std::make_unique_for_overwrite<std::uint8_t[]>(new_cap);
  const std::size_t new_mask = new_cap - 1;
  std::uint64_t o = base;
  while (o < live_end) {
    const std::size_t from = index(o);
    const std::size_t to = static_cast<std::size_t>(o & new_mask);
    const std::size_t run = static_cast<std::size_t>(
        std::min<std::uint64_t>({live_end - o, cap_ - from, new_cap - to}));
    std::memcpy(fresh.get() + to, data_.get() + from, run);
    o += run;
  }
  data_ = std::move(fresh);
  cap_ = new_cap;
}

void ByteRing::write(std::uint64_t offset, Bytes data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const std::size_t at = index(offset + done);
    const std::size_t run = std::min(data.size() - done, cap_ - at);
    std::memcpy(data_.get() + at, data.data() + done, run);
    done += run;
  }
}

Bytes ByteRing::view(std::uint64_t offset, std::size_t max_len) const {
  if (cap_ == 0 || max_len == 0) return {};
  const std::size_t at = index(offset);
  return {data_.get() + at, std::min(max_len, cap_ - at)};
}

void ByteRing::copy_out(std::uint64_t offset, MutBytes out) const {
  std::size_t done = 0;
  while (done < out.size()) {
    const std::size_t at = index(offset + done);
    const std::size_t run = std::min(out.size() - done, cap_ - at);
    std::memcpy(out.data() + done, data_.get() + at, run);
    done += run;
  }
}

}  // namespace roam::streams
