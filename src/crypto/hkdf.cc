// HKDF through GnuTLS (gnutls_hkdf_extract / gnutls_hkdf_expand); only the TLS 1.3 label
// encoding is ours.
#include "crypto/hkdf.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <array>
#include <cstring>
#include <limits>

namespace roam::crypto {

namespace {

gnutls_mac_algorithm_t to_gnutls(HashAlgorithm h) {
  return h == HashAlgorithm::kSha384 ? GNUTLS_MAC_SHA384 : GNUTLS_MAC_SHA256;
}

// GnuTLS takes non-const datum pointers for input it only reads.
gnutls_datum_t datum(Bytes b) {
  return {const_cast<unsigned char*>(b.data()), static_cast<unsigned int>(b.size())};
}

constexpr std::string_view kTls13Prefix = "tls13 ";

}  // namespace

Result<Secret> hkdf_extract(HashAlgorithm h, Bytes salt, Bytes ikm) {
  if (salt.size() > std::numeric_limits<unsigned int>::max() || ikm.size() > std::numeric_limits<unsigned int>::max()) {
    return Error{TransportError::kInternalError, "hkdf_extract: input too long"};
  }
  // GnuTLS rejects a NULL key pointer even for an empty key (an empty DCID is legal after Retry);
  // point empty inputs at a valid byte with size 0.
  static constexpr std::uint8_t kEmpty[1] = {0};
  if (ikm.empty()) ikm = Bytes(kEmpty, 0);
  if (salt.empty()) salt = Bytes(kEmpty, 0);
  Secret prk;
  const gnutls_datum_t key = datum(ikm);
  const gnutls_datum_t salt_d = datum(salt);
  MutBytes out = prk.resize(hash_size(h));
  if (gnutls_hkdf_extract(to_gnutls(h), &key, &salt_d, out.data()) < 0) {
    return Error{TransportError::kInternalError, "hkdf_extract failed"};
  }
  return prk;
}

Status hkdf_expand(HashAlgorithm h, Bytes prk, Bytes info, MutBytes out) {
  if (out.empty() || out.size() > 255 * hash_size(h) || prk.empty() ||
      prk.size() > std::numeric_limits<unsigned int>::max() || info.size() > std::numeric_limits<unsigned int>::max()) {
    return Error{TransportError::kInternalError, "hkdf_expand: bad length"};
  }
  const gnutls_datum_t key = datum(prk);
  const gnutls_datum_t info_d = datum(info);
  if (gnutls_hkdf_expand(to_gnutls(h), &key, &info_d, out.data(), out.size()) < 0) {
    return Error{TransportError::kInternalError, "hkdf_expand failed"};
  }
  return {};
}

std::size_t make_hkdf_label(std::uint16_t length, std::string_view label, Bytes context, MutBytes out) {
  const std::size_t full_label = kTls13Prefix.size() + label.size();
  if (full_label > 255 || context.size() > 255) return 0;
  const std::size_t total = 2 + 1 + full_label + 1 + context.size();
  if (out.size() < total) return 0;
  std::size_t i = 0;
  out[i++] = static_cast<std::uint8_t>(length >> 8);
  out[i++] = static_cast<std::uint8_t>(length);
  out[i++] = static_cast<std::uint8_t>(full_label);
  std::memcpy(out.data() + i, kTls13Prefix.data(), kTls13Prefix.size());
  i += kTls13Prefix.size();
  if (!label.empty()) std::memcpy(out.data() + i, label.data(), label.size());
  i += label.size();
  out[i++] = static_cast<std::uint8_t>(context.size());
  if (!context.empty()) std::memcpy(out.data() + i, context.data(), context.size());
  i += context.size();
  return i;
}

Status hkdf_expand_label(HashAlgorithm h, Bytes secret, std::string_view label, Bytes context, MutBytes out) {
  if (out.size() > std::numeric_limits<std::uint16_t>::max()) {
    return Error{TransportError::kInternalError, "hkdf_expand_label: length too large"};
  }
  std::array<std::uint8_t, kMaxHkdfLabelSize> info;
  const std::size_t n = make_hkdf_label(static_cast<std::uint16_t>(out.size()), label, context, info);
  if (n == 0) return Error{TransportError::kInternalError, "hkdf_expand_label: label too long"};
  return hkdf_expand(h, secret, Bytes(info.data(), n), out);
}

Result<Secret> hkdf_expand_label(HashAlgorithm h, Bytes secret, std::string_view label, std::size_t length) {
  if (length == 0 || length > Secret::kMaxSize) {
    return Error{TransportError::kInternalError, "hkdf_expand_label: bad length"};
  }
  Secret out;
  Status st = hkdf_expand_label(h, secret, label, {}, out.resize(length));
  if (!st) return st.error();
  return out;
}

}  // namespace roam::crypto
