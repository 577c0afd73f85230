// Strong types shared by every module: connection IDs, packet numbers, stream IDs, time.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace roam {

using Bytes = std::span<const std::uint8_t>;
using MutBytes = std::span<std::uint8_t>;

// A tagged integer: a StreamId can never be passed where a PacketNumber belongs.
template <class Tag, class Rep = std::uint64_t>
struct StrongInt {
  Rep value{};
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep v) : value(v) {}
  constexpr auto operator<=>(const StrongInt&) const = default;
};

using PacketNumber = StrongInt<struct PacketNumberTag>;
using StreamId = StrongInt<struct StreamIdTag>;
using PathId = StrongInt<struct PathIdTag, std::uint32_t>;

// Time is injected into the core, never read from a clock inside it. Instant is a point on the
// caller's monotonic timeline (real or virtual); the core only subtracts and compares.
struct TimeBase {};
using Duration = std::chrono::nanoseconds;
using Instant = std::chrono::time_point<TimeBase, Duration>;

constexpr Duration operator""_us(unsigned long long v) { return std::chrono::microseconds(v); }
constexpr Duration operator""_ms(unsigned long long v) { return std::chrono::milliseconds(v); }

// A QUIC connection ID: 0..20 bytes, stored inline.
class ConnectionId {
 public:
  static constexpr std::size_t kMaxLength = 20;

  constexpr ConnectionId() = default;
  // Precondition: bytes.size() <= kMaxLength (callers validate wire input first).
  explicit ConnectionId(Bytes bytes) : len_(static_cast<std::uint8_t>(std::min(bytes.size(), kMaxLength))) {
    std::copy_n(bytes.begin(), len_, data_.begin());
  }
  ConnectionId(std::initializer_list<std::uint8_t> bytes)
      : ConnectionId(Bytes(bytes.begin(), bytes.size())) {}

  std::size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  const std::uint8_t* data() const { return data_.data(); }
  std::uint8_t* mutable_data() { return data_.data(); }
  void resize(std::size_t n) { len_ = static_cast<std::uint8_t>(std::min(n, kMaxLength)); }
  Bytes bytes() const { return {data_.data(), len_}; }
  std::uint8_t operator[](std::size_t i) const { return data_[i]; }
  std::string hex() const;

  friend bool operator==(const ConnectionId& a, const ConnectionId& b) {
    return a.len_ == b.len_ && std::equal(a.data_.begin(), a.data_.begin() + a.len_, b.data_.begin());
  }

 private:
  std::array<std::uint8_t, kMaxLength> data_{};
  std::uint8_t len_ = 0;
};

struct ConnectionIdHash {
  std::size_t operator()(const ConnectionId& cid) const noexcept;
};

std::string to_hex(Bytes bytes);
// Parses an even-length hex string; returns false on any non-hex character.
bool from_hex(std::string_view hex, std::basic_string<std::uint8_t>& out);

}  // namespace roam
