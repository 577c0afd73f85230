// OpenSSL 3 libcrypto backend (EVP). Each object creates its EVP_CIPHER_CTX once with the key;
// per packet only the nonce is set (EVP_*Init_ex with NULL cipher and key keeps the key schedule).
#include <openssl/evp.h>

#include <array>
#include <climits>
#include <cstring>

#include "crypto/backends.h"
#include "crypto/secret.h"

namespace roam::crypto::detail {

namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const EVP_CIPHER* aead_cipher(AeadAlgorithm a) {
  switch (a) {
    case AeadAlgorithm::kAes128Gcm:
      return EVP_aes_128_gcm();
    case AeadAlgorithm::kAes256Gcm:
      return EVP_aes_256_gcm();
    case AeadAlgorithm::kChaCha20Poly1305:
      return EVP_chacha20_poly1305();
  }
  return nullptr;
}

CtxPtr new_ctx(const EVP_CIPHER* cipher, Bytes key, bool encrypt) {
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || cipher == nullptr) return nullptr;
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), nullptr, encrypt ? 1 : 0) != 1) return nullptr;
  return ctx;
}

class OpensslAead final : public Aead {
 public:
  OpensslAead(AeadAlgorithm algorithm, CtxPtr enc, CtxPtr dec)
      : Aead(algorithm, Backend::kOpenSsl), enc_(std::move(enc)), dec_(std::move(dec)) {}

  bool seal(Nonce nonce, Bytes aad, Bytes plaintext, MutBytes out) const override {
    const std::size_t n = plaintext.size();
    if (out.size() < n + kAeadTagSize || n > INT_MAX || aad.size() > INT_MAX) return false;
    EVP_CIPHER_CTX* c = enc_.get();
    int len = 0;
    if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce.data()) != 1) return false;
    if (!aad.empty() && EVP_EncryptUpdate(c, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
      return false;
    }
    if (n != 0 && EVP_EncryptUpdate(c, out.data(), &len, plaintext.data(), static_cast<int>(n)) != 1) return false;
    if (EVP_EncryptFinal_ex(c, out.data() + n, &len) != 1) return false;
    return EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, out.data() + n) == 1;
  }

  bool open(Nonce nonce, Bytes aad, Bytes ciphertext, MutBytes out) const override {
    if (ciphertext.size() < kAeadTagSize) return false;
    const std::size_t n = ciphertext.size() - kAeadTagSize;
    if (out.size() < n || n > INT_MAX || aad.size() > INT_MAX) return false;
    EVP_CIPHER_CTX* c = dec_.get();
    std::array<std::uint8_t, kAeadTagSize> tag;
    std::memcpy(tag.data(), ciphertext.data() + n, kAeadTagSize);
    int len = 0;
    bool ok = EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, tag.data()) == 1 &&
              (aad.empty() || EVP_DecryptUpdate(c, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1) &&
              (n == 0 || EVP_DecryptUpdate(c, out.data(), &len, ciphertext.data(), static_cast<int>(n)) == 1);
    // Final verifies the tag; it writes no bytes for these AEADs.
    std::uint8_t unused[1];
    ok = ok && EVP_DecryptFinal_ex(c, unused, &len) == 1;
    if (!ok) cleanse(out.first(n));
    return ok;
  }

 private:
  CtxPtr enc_;
  CtxPtr dec_;
};

class OpensslAesHp final : public HeaderProtector {
 public:
  OpensslAesHp(AeadAlgorithm algorithm, CtxPtr ctx) : HeaderProtector(algorithm, Backend::kOpenSsl), ctx_(std::move(ctx)) {}

  bool mask(HpSample sample, HpMask& out) const override {
    std::array<std::uint8_t, 16> block;
    int len = 0;
    // ECB without padding keeps no state between blocks: one update per sample.
    if (EVP_EncryptUpdate(ctx_.get(), block.data(), &len, sample.data(), static_cast<int>(sample.size())) != 1 ||
        len != 16) {
      return false;
    }
    std::memcpy(out.data(), block.data(), out.size());
    return true;
  }

 private:
  CtxPtr ctx_;
};

// EVP_chacha20 takes a 16-byte IV: 32-bit little-endian counter then 96-bit nonce, which is the
// sample exactly as RFC 9001 5.4.4 splits it.
class OpensslChaChaHp final : public HeaderProtector {
 public:
  explicit OpensslChaChaHp(CtxPtr ctx)
      : HeaderProtector(AeadAlgorithm::kChaCha20Poly1305, Backend::kOpenSsl), ctx_(std::move(ctx)) {}

  bool mask(HpSample sample, HpMask& out) const override {
    static constexpr std::array<std::uint8_t, kHpMaskSize> kZeros{};
    int len = 0;
    return EVP_EncryptInit_ex(ctx_.get(), nullptr, nullptr, nullptr, sample.data()) == 1 &&
           EVP_EncryptUpdate(ctx_.get(), out.data(), &len, kZeros.data(), static_cast<int>(kZeros.size())) == 1 &&
           len == static_cast<int>(kHpMaskSize);
  }

 private:
  CtxPtr ctx_;
};

}  // namespace

Result<std::unique_ptr<Aead>> make_openssl_aead(AeadAlgorithm algorithm, Bytes key) {
  CtxPtr enc = new_ctx(aead_cipher(algorithm), key, true);
  CtxPtr dec = new_ctx(aead_cipher(algorithm), key, false);
  if (!enc || !dec) return Error{TransportError::kInternalError, "EVP AEAD context setup failed"};
  return std::unique_ptr<Aead>(new OpensslAead(algorithm, std::move(enc), std::move(dec)));
}

Result<std::unique_ptr<HeaderProtector>> make_openssl_header_protector(AeadAlgorithm algorithm, Bytes key) {
  if (algorithm == AeadAlgorithm::kChaCha20Poly1305) {
    CtxPtr ctx = new_ctx(EVP_chacha20(), key, true);
    if (!ctx) return Error{TransportError::kInternalError, "EVP ChaCha20 context setup failed"};
    return std::unique_ptr<HeaderProtector>(new OpensslChaChaHp(std::move(ctx)));
  }
  CtxPtr ctx = new_ctx(algorithm == AeadAlgorithm::kAes128Gcm ? EVP_aes_128_ecb() : EVP_aes_256_ecb(), key, true);
  if (!ctx || EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    return Error{TransportError::kInternalError, "EVP AES-ECB context setup failed"};
  }
  return std::unique_ptr<HeaderProtector>(new OpensslAesHp(algorithm, std::move(ctx)));
}

}  // namespace roam::crypto::detail
