// Header protection masks (RFC 9001 5.4): AES-ECB of the 16-byte sample for the AES AEADs, raw
// ChaCha20 (counter = sample[0..4] little-endian, nonce = sample[4..16]) over five zero bytes for
// ChaCha20-Poly1305. Same two backends as the AEAD; the cipher context is created once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "common/error.h"
#include "common/types.h"
#include "crypto/algorithms.h"

namespace roam::crypto {

using HpSample = std::span<const std::uint8_t, kHpSampleSize>;
using HpMask = std::array<std::uint8_t, kHpMaskSize>;

class HeaderProtector {
 public:
  virtual ~HeaderProtector() = default;
  HeaderProtector(const HeaderProtector&) = delete;
  HeaderProtector& operator=(const HeaderProtector&) = delete;

  AeadAlgorithm algorithm() const { return algorithm_; }
  Backend backend() const { return backend_; }

  // The 5-byte mask for `sample`. Returns false only if the library fails. Not thread-safe (the
  // context is reused), like Aead.
  [[nodiscard]] virtual bool mask(HpSample sample, HpMask& out) const = 0;

 protected:
  HeaderProtector(AeadAlgorithm algorithm, Backend backend) : algorithm_(algorithm), backend_(backend) {}

 private:
  AeadAlgorithm algorithm_;
  Backend backend_;
};

// Creates a header protector for `hp_key` (hp_key_size(algorithm) bytes). kAuto picks
// choose_hp_backend(algorithm, kAuto).
Result<std::unique_ptr<HeaderProtector>> make_header_protector(AeadAlgorithm algorithm, Bytes hp_key,
                                                               Backend backend = Backend::kAuto);

}  // namespace roam::crypto
