// HKDF (RFC 5869) and TLS 1.3 HKDF-Expand-Label (RFC 8446 7.1), as QUIC uses them (RFC 9001 5.1):
// always with an empty context, labels such as "quic key" prefixed with "tls13 ".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "common/types.h"
#include "crypto/algorithms.h"
#include "crypto/secret.h"

namespace roam::crypto {

// PRK = HKDF-Extract(salt, ikm); hash_size(h) bytes.
Result<Secret> hkdf_extract(HashAlgorithm h, Bytes salt, Bytes ikm);

// Fills `out` with HKDF-Expand(prk, info, out.size()). out.size() must be 1..255*hash_size(h).
Status hkdf_expand(HashAlgorithm h, Bytes prk, Bytes info, MutBytes out);

// Writes the HkdfLabel structure { uint16 length; opaque label<7..255> = "tls13 " + label;
// opaque context<0..255> } into `out`. Returns the number of bytes written, or 0 if the label
// or context is too long or `out` too small (kMaxHkdfLabelSize always suffices).
inline constexpr std::size_t kMaxHkdfLabelSize = 2 + 1 + 255 + 1 + 255;
std::size_t make_hkdf_label(std::uint16_t length, std::string_view label, Bytes context, MutBytes out);

// Fills `out` with HKDF-Expand-Label(secret, label, context, out.size()).
Status hkdf_expand_label(HashAlgorithm h, Bytes secret, std::string_view label, Bytes context, MutBytes out);

// HKDF-Expand-Label(secret, label, "", length) as a Secret (length <= Secret::kMaxSize).
Result<Secret> hkdf_expand_label(HashAlgorithm h, Bytes secret, std::string_view label, std::size_t length);

}  // namespace roam::crypto
