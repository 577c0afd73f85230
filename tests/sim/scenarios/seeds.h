// Seed parameters for scenario tests: the seed is part of every test name, so a failure names it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace roam::sim {

inline std::string seed_name(const ::testing::TestParamInfo<std::uint64_t>& info) {
  return "seed" + std::to_string(info.param);
}

inline auto scenario_seeds() { return ::testing::Values<std::uint64_t>(1, 2, 3); }

}  // namespace roam::sim
