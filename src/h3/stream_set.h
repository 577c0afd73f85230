// A set of QUIC stream IDs that only grows, stored compactly: streams of each type (id & 3) are
// used in order, so "every index below N, plus a few above" stays small however many streams a
// connection runs. The session uses it to remember streams it has finished with, so that late
// data on them is never taken for a new stream.
#pragma once

#include <cstdint>
#include <set>

namespace roam::h3 {

class StreamSet {
 public:
  bool contains(std::uint64_t id) const {
    const Part& p = parts_[id & 3];
    const std::uint64_t index = id >> 2;
    return index < p.below || p.above.count(index) > 0;
  }
  void insert(std::uint64_t id) {
    Part& p = parts_[id & 3];
    const std::uint64_t index = id >> 2;
    if (index < p.below) return;
    p.above.insert(index);
    while (!p.above.empty() && *p.above.begin() == p.below) {
      p.above.erase(p.above.begin());
      ++p.below;
    }
  }
  // Entries kept individually (for tests: stays small when IDs are finished roughly in order).
  std::size_t sparse_size() const {
    std::size_t n = 0;
    for (const auto& p : parts_) n += p.above.size();
    return n;
  }

 private:
  struct Part {
    std::uint64_t below = 0;
    std::set<std::uint64_t> above;
  };
  Part parts_[4];
};

}  // namespace roam::h3
