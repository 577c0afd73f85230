// Encryption levels and key directions of the QUIC/TLS interface (RFC 9001 section 4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace roam::tls {

// The four encryption levels. CRYPTO frames are carried at every level except kEarlyData.
enum class Level : std::uint8_t { kInitial, kEarlyData, kHandshake, kApplication };

inline constexpr std::size_t kLevelCount = 4;

// Which way a traffic secret protects packets, from this endpoint's point of view.
enum class Direction : std::uint8_t { kRead, kWrite };

constexpr std::size_t index_of(Level level) { return static_cast<std::size_t>(level); }

std::string_view to_string(Level level);
std::string_view to_string(Direction direction);

}  // namespace roam::tls
