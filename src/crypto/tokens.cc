#include "crypto/tokens.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "crypto/secret.h"

namespace roam::crypto {

StatelessResetToken stateless_reset_token(Bytes static_key, const ConnectionId& cid) {
  std::array<std::uint8_t, 32> mac;
  // Empty inputs still need valid pointers for both libraries.
  static constexpr std::uint8_t kEmpty[1] = {0};
  const std::uint8_t* key = static_key.empty() ? kEmpty : static_key.data();
  const std::uint8_t* msg = cid.empty() ? kEmpty : cid.data();
  bool ok = gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, static_key.size(), msg, cid.size(), mac.data()) == 0;
  if (!ok) {
    unsigned int len = 0;
    ok = HMAC(EVP_sha256(), key, static_cast<int>(static_key.size()), msg, cid.size(), mac.data(), &len) != nullptr &&
         len == mac.size();
  }
  if (!ok) {
    std::fputs("roam: HMAC-SHA256 unavailable in both GnuTLS and OpenSSL; cannot derive stateless reset tokens\n",
               stderr);
    std::abort();
  }
  StatelessResetToken token;
  std::memcpy(token.data(), mac.data(), token.size());
  cleanse(mac);
  return token;
}

Result<TokenCipher> TokenCipher::create(Bytes key, Random& rng, Backend backend) {
  if (key.size() != kKeySize) return Error{TransportError::kInternalError, "token key must be 32 bytes"};
  auto aead = make_aead(AeadAlgorithm::kAes256Gcm, key, backend);
  if (!aead) return aead.error();
  return TokenCipher(std::move(aead.value()), rng);
}

Result<std::vector<std::uint8_t>> TokenCipher::seal(Bytes plaintext, Bytes aad) const {
  std::vector<std::uint8_t> token(kOverhead + plaintext.size());
  const MutBytes nonce(token.data(), kNonceSize);
  rng_->fill(nonce);
  const MutBytes body(token.data() + kNonceSize, plaintext.size() + kAeadTagSize);
  if (!aead_->seal(Nonce(nonce.data(), kNonceSize), aad, plaintext, body)) {
    return Error{TransportError::kInternalError, "token seal failed"};
  }
  return token;
}

Result<std::vector<std::uint8_t>> TokenCipher::open(Bytes token, Bytes aad) const {
  if (token.size() < kOverhead) return Error{TransportError::kInvalidToken, "token too short"};
  std::vector<std::uint8_t> plaintext(token.size() - kOverhead);
  if (!aead_->open(Nonce(token.data(), kNonceSize), aad, token.subspan(kNonceSize), plaintext)) {
    return Error{TransportError::kInvalidToken, "token failed authentication"};
  }
  return plaintext;
}

}  // namespace roam::crypto
