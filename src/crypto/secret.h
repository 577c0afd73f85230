// A traffic secret or derived key held inline (no allocation) and wiped when it goes away.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/types.h"

namespace roam::crypto {

class Secret {
 public:
  static constexpr std::size_t kMaxSize = 64;

  Secret() = default;
  // Precondition: bytes.size() <= kMaxSize (longer input is truncated; callers pass hash outputs).
  explicit Secret(Bytes bytes);
  Secret(const Secret& other);
  Secret& operator=(const Secret& other);
  ~Secret();

  std::size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  Bytes bytes() const { return {data_.data(), len_}; }
  // For filling by a KDF: sets the size (<= kMaxSize) and returns the writable bytes.
  MutBytes resize(std::size_t n);

  // Constant-time comparison of the contents.
  friend bool operator==(const Secret& a, const Secret& b);

 private:
  std::array<std::uint8_t, kMaxSize> data_{};
  std::size_t len_ = 0;
};

// Zeroes memory in a way the compiler does not remove.
void cleanse(MutBytes bytes);
// Constant-time equality of two byte strings of the same length (false if lengths differ).
bool constant_time_equal(Bytes a, Bytes b);

}  // namespace roam::crypto
