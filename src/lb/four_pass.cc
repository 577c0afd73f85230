#include "lb/four_pass.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace roam::lb {

namespace {

// One half of the plaintext: half_len octets, the middle octet's nibble included for odd lengths.
using Half = std::array<std::uint8_t, kFourPassMaxLen / 2>;

struct Split {
  std::size_t len;
  std::size_t half_len;  // len / 2 rounded up
  bool odd;
};

// The middle octet of an odd length belongs half to each side: left keeps its high nibble,
// right its low nibble ("clear_last_bits" / "clear_first_bits" in the draft).
void clear_left(const Split& s, Half& left) {
  if (s.odd) left[s.half_len - 1] &= 0xf0;
}
void clear_right(const Split& s, Half& right) {
  if (s.odd) right[0] &= 0x0f;
}

// target ^= truncate(AES(expand(len, pass, input)), half_len)
bool round(const AesEcb& aes, const Split& s, std::uint8_t pass, const Half& input, Half& target) {
  Block block{};
  std::copy_n(input.begin(), s.half_len, block.begin());
  block[14] = static_cast<std::uint8_t>(s.len);
  block[15] = pass;
  if (!aes.encrypt(block, block)) return false;
  for (std::size_t i = 0; i < s.half_len; ++i) target[i] ^= block[i];
  return true;
}

void split(const Split& s, Bytes data, Half& left, Half& right) {
  left.fill(0);
  right.fill(0);
  std::copy_n(data.begin(), s.half_len, left.begin());
  std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(s.len - s.half_len), s.half_len, right.begin());
  clear_left(s, left);
  clear_right(s, right);
}

void join(const Split& s, const Half& left, const Half& right, MutBytes data) {
  std::copy_n(left.begin(), s.half_len, data.begin());
  // Odd: the shared middle octet is left's high nibble | right's low nibble.
  const std::size_t r = s.len - s.half_len;
  for (std::size_t i = 0; i < s.half_len; ++i) {
    if (s.odd && i == 0) {
      data[r] = static_cast<std::uint8_t>(left[s.half_len - 1] | right[0]);
    } else {
      data[r + i] = right[i];
    }
  }
}

bool valid(MutBytes data) { return data.size() >= kFourPassMinLen && data.size() <= kFourPassMaxLen; }

Split split_of(std::size_t len) { return Split{len, (len + 1) / 2, len % 2 != 0}; }

}  // namespace

bool four_pass_encrypt(const AesEcb& aes, MutBytes data) {
  if (!valid(data)) return false;
  const Split s = split_of(data.size());
  Half left, right;
  split(s, data, left, right);
  if (!round(aes, s, 1, left, right)) return false;
  clear_right(s, right);
  if (!round(aes, s, 2, right, left)) return false;
  clear_left(s, left);
  if (!round(aes, s, 3, left, right)) return false;
  clear_right(s, right);
  if (!round(aes, s, 4, right, left)) return false;
  clear_left(s, left);
  join(s, left, right, data);
  return true;
}

bool four_pass_decrypt(const AesEcb& aes, MutBytes data, bool all_passes) {
  if (!valid(data)) return false;
  const Split s = split_of(data.size());
  Half left, right;
  split(s, data, left, right);
  if (!round(aes, s, 4, right, left)) return false;
  clear_left(s, left);
  if (!round(aes, s, 3, left, right)) return false;
  clear_right(s, right);  // the draft's pseudocode clears left_1 here: a typo (specs README, erratum 4)
  if (!round(aes, s, 2, right, left)) return false;
  clear_left(s, left);
  if (all_passes) {
    if (!round(aes, s, 1, left, right)) return false;
    clear_right(s, right);
  }
  join(s, left, right, data);
  return true;
}

}  // namespace roam::lb
