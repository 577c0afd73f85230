// A set of disjoint, non-adjacent half-open byte ranges [start, end), kept merged. Used for
// acknowledged, lost and received stream data. O(log n) insert/erase; callers keep the common
// in-order case out of the set (a contiguous prefix integer), so steady-state transfers do not
// allocate here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <iterator>
#include <map>

namespace roam::streams {

struct ByteRange {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
  std::uint64_t size() const { return end - start; }
  bool operator==(const ByteRange&) const = default;
};

class RangeSet {
 public:
  bool empty() const { return ranges_.empty(); }
  // Number of disjoint ranges.
  std::size_t size() const { return ranges_.size(); }
  // Precondition: !empty().
  ByteRange front() const { return {ranges_.begin()->first, ranges_.begin()->second}; }
  ByteRange back() const { return {ranges_.rbegin()->first, ranges_.rbegin()->second}; }
  void clear() { ranges_.clear(); }

  // Adds [start, end); merges with overlapping or adjacent ranges. Empty ranges are ignored.
  void insert(std::uint64_t start, std::uint64_t end);
  // Removes [start, end) from every range it overlaps.
  void erase(std::uint64_t start, std::uint64_t end);
  // Removes everything below `end`.
  void erase_below(std::uint64_t end);
  // True when every byte of [start, end) is in the set (an empty range is always contained).
  bool contains(std::uint64_t start, std::uint64_t end) const;
  // Calls f(gap_start, gap_end) for each maximal part of [start, end) not in the set, in order.
  template <class F>
  void for_each_gap(std::uint64_t start, std::uint64_t end, F&& f) const;

  auto begin() const { return ranges_.begin(); }
  auto end() const { return ranges_.end(); }

 private:
  std::map<std::uint64_t, std::uint64_t> ranges_;  // start -> end
};

template <class F>
void RangeSet::for_each_gap(std::uint64_t start, std::uint64_t end, F&& f) const {
  if (start >= end) return;
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second > start) start = prev->second;
  }
  while (start < end) {
    if (it == ranges_.end() || it->first >= end) {
      f(start, end);
      return;
    }
    if (it->first > start) f(start, it->first);
    start = std::max(start, it->second);
    ++it;
  }
}

}  // namespace roam::streams
