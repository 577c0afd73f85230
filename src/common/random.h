// Randomness is injected into the protocol core: SystemRandom for real runs, SeededRandom for
// reproducible simulations. Nothing in the core calls a global RNG.
#pragma once

#include <cstdint>

#include "common/types.h"

namespace roam {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(MutBytes out) = 0;
  std::uint64_t next_u64() {
    std::uint8_t b[8];
    fill(b);
    std::uint64_t v = 0;
    for (auto x : b) v = v << 8 | x;
    return v;
  }
  // Uniform in [0, bound) for bound > 0 (tiny modulo bias is irrelevant for protocol jitter).
  std::uint64_t uniform(std::uint64_t bound) { return bound ? next_u64() % bound : 0; }
};

// Deterministic generator (xoshiro256**) for simulations and tests. Not for keys or tokens.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed);
  void fill(MutBytes out) override;
  std::uint64_t next();

 private:
  std::uint64_t s_[4];
};

}  // namespace roam
