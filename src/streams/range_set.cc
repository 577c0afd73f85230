#include "streams/range_set.h"

#include <algorithm>
#include <iterator>

namespace roam::streams {

void RangeSet::insert(std::uint64_t start, std::uint64_t end) {
  if (start >= end) return;
  // First range that could touch [start, end): the last one starting at or before start.
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= start) {
      if (prev->second >= end) return;  // already covered
      start = prev->first;
      it = prev;
    }
  }
  // Absorb every range that starts at or before end.
  while (it != ranges_.end() && it->first <= end) {
    end = std::max(end, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace_hint(it, start, end);
}

void RangeSet::erase(std::uint64_t start, std::uint64_t end) {
  if (start >= end) return;
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second > start) {
      const std::uint64_t prev_end = prev->second;
      prev->second = start;  // keep the left part (possibly empty)
      if (prev->first == start) ranges_.erase(prev);
      if (prev_end > end) {
        ranges_.emplace_hint(it, end, prev_end);
        return;
      }
    }
  }
  while (it != ranges_.end() && it->first < end) {
    if (it->second > end) {
      const std::uint64_t right_end = it->second;
      it = ranges_.erase(it);
      ranges_.emplace_hint(it, end, right_end);
      return;
    }
    it = ranges_.erase(it);
  }
}

void RangeSet::erase_below(std::uint64_t end) {
  while (!ranges_.empty()) {
    auto it = ranges_.begin();
    if (it->first >= end) return;
    if (it->second > end) {
      const std::uint64_t right_end = it->second;
      ranges_.erase(it);
      ranges_.emplace(end, right_end);
      return;
    }
    ranges_.erase(it);
  }
}

bool RangeSet::contains(std::uint64_t start, std::uint64_t end) const {
  if (start >= end) return true;
  auto it = ranges_.upper_bound(start);
  if (it == ranges_.begin()) return false;
  --it;
  return it->first <= start && it->second >= end;
}

}  // namespace roam::streams
