// Small helpers shared by the crypto tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "common/random.h"
#include "crypto/algorithms.h"

namespace roam::crypto::test {

struct BackendName {
  std::string operator()(const ::testing::TestParamInfo<Backend>& info) const {
    switch (info.param) {
      case Backend::kGnuTls:
        return "GnuTls";
      case Backend::kOpenSsl:
        return "OpenSsl";
      case Backend::kAuto:
        return "Auto";
    }
    return "Unknown";
  }
};

inline std::string algorithm_name(AeadAlgorithm a) {
  switch (a) {
    case AeadAlgorithm::kAes128Gcm:
      return "Aes128Gcm";
    case AeadAlgorithm::kAes256Gcm:
      return "Aes256Gcm";
    case AeadAlgorithm::kChaCha20Poly1305:
      return "ChaCha20Poly1305";
  }
  return "Unknown";
}

struct AlgorithmName {
  std::string operator()(const ::testing::TestParamInfo<AeadAlgorithm>& p) const { return algorithm_name(p.param); }
};

struct AlgorithmBackendName {
  std::string operator()(const ::testing::TestParamInfo<std::tuple<AeadAlgorithm, Backend>>& p) const {
    return algorithm_name(std::get<0>(p.param)) + (std::get<1>(p.param) == Backend::kGnuTls ? "_GnuTls" : "_OpenSsl");
  }
};

inline constexpr AeadAlgorithm kAllAlgorithms[] = {AeadAlgorithm::kAes128Gcm, AeadAlgorithm::kAes256Gcm,
                                                   AeadAlgorithm::kChaCha20Poly1305};

inline std::vector<std::uint8_t> random_bytes(Random& rng, std::size_t n) {
  std::vector<std::uint8_t> v(n);
  rng.fill(v);
  return v;
}

}  // namespace roam::crypto::test
