#include "tls/gnutls_util.h"

namespace roam::tls::detail {

std::optional<CipherSuite> suite_from_gnutls(gnutls_cipher_algorithm_t cipher,
                                             gnutls_digest_algorithm_t prf) {
  if (cipher == GNUTLS_CIPHER_AES_128_GCM && prf == GNUTLS_DIG_SHA256) return kAes128GcmSha256;
  if (cipher == GNUTLS_CIPHER_AES_256_GCM && prf == GNUTLS_DIG_SHA384) return kAes256GcmSha384;
  if (cipher == GNUTLS_CIPHER_CHACHA20_POLY1305 && prf == GNUTLS_DIG_SHA256) {
    return kChaCha20Poly1305Sha256;
  }
  return std::nullopt;
}

std::string_view priority_keyword(Aead aead) {
  switch (aead) {
    case Aead::kAes128Gcm:
      return "+AES-128-GCM";
    case Aead::kAes256Gcm:
      return "+AES-256-GCM";
    case Aead::kChaCha20Poly1305:
      return "+CHACHA20-POLY1305";
  }
  return "+AES-128-GCM";
}

std::string hex_colon(Bytes bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(bytes.size() * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) s.push_back(':');
    s.push_back(kDigits[bytes[i] >> 4]);
    s.push_back(kDigits[bytes[i] & 0xf]);
  }
  return s;
}

std::string base64(Bytes bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  s.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v =
        std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
    s.push_back(kAlphabet[v >> 18 & 63]);
    s.push_back(kAlphabet[v >> 12 & 63]);
    s.push_back(kAlphabet[v >> 6 & 63]);
    s.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) v |= std::uint32_t{bytes[i + 1]} << 8;
    s.push_back(kAlphabet[v >> 18 & 63]);
    s.push_back(kAlphabet[v >> 12 & 63]);
    s.push_back(rest == 2 ? kAlphabet[v >> 6 & 63] : '=');
    s.push_back('=');
  }
  return s;
}

}  // namespace roam::tls::detail
