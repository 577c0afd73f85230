// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed hash
// for the fallback routing of unroutable CIDs. Keyed, so a client cannot choose CIDs that all land
// on one backend without knowing the key; deterministic, so every load balancer instance with the
// same key routes the same way.
#pragma once

#include <array>
#include <cstdint>

#include "common/types.h"

namespace roam::lb {

using SipKey = std::array<std::uint8_t, 16>;

std::uint64_t siphash24(const SipKey& key, Bytes message);

}  // namespace roam::lb
