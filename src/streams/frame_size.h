// Sizes of the frames the stream layer hands to the packet builder, so that it can fill a packet
// without knowing the codec (all these frame types fit in a one-byte type field).
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/varint.h"

namespace roam::streams {

// The largest data length L with L + varint_size(L) <= room (0 if room < 2): the payload that fits
// after a fixed header when an explicit Length field is written.
constexpr std::size_t max_payload_with_length(std::size_t room) {
  std::size_t best = 0;
  constexpr std::size_t kLimits[] = {63, 16383, (std::size_t{1} << 30) - 1};
  constexpr std::size_t kSizes[] = {1, 2, 4};
  for (int i = 0; i < 3; ++i) {
    if (room > kSizes[i]) {
      const std::size_t l = room - kSizes[i] < kLimits[i] ? room - kSizes[i] : kLimits[i];
      if (l > best) best = l;
    }
  }
  return best;
}

// STREAM frame header with explicit Length: type, stream ID, Offset (omitted at 0).
constexpr std::size_t stream_frame_header(std::uint64_t stream_id, std::uint64_t offset) {
  return 1 + wire::varint_size(stream_id) + (offset ? wire::varint_size(offset) : 0);
}
// CRYPTO frame header before the Length field: type, Offset.
constexpr std::size_t crypto_frame_header(std::uint64_t offset) { return 1 + wire::varint_size(offset); }

}  // namespace roam::streams
