// Helpers shared by the streams unit tests.
#pragma once

#include <cstdint>
#include <vector>

#include "common/types.h"

namespace roam::streams::test {

// A position-dependent byte pattern, so that any misplaced byte shows up.
inline std::uint8_t pattern_byte(std::uint64_t offset) {
  return static_cast<std::uint8_t>(offset * 131 + (offset >> 8) * 7 + (offset >> 16));
}

inline std::vector<std::uint8_t> pattern(std::uint64_t offset, std::size_t len) {
  std::vector<std::uint8_t> v(len);
  for (std::size_t i = 0; i < len; ++i) v[i] = pattern_byte(offset + i);
  return v;
}

inline bool matches_pattern(std::uint64_t offset, Bytes data) {
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] != pattern_byte(offset + i)) return false;
  }
  return true;
}

}  // namespace roam::streams::test
