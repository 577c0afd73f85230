#include "lb/aes_ecb.h"

namespace roam::lb {

namespace {

bool init(EVP_CIPHER_CTX* ctx, const Key& key, bool encrypt) {
  if (ctx == nullptr) return false;
  if (EVP_CipherInit_ex(ctx, EVP_aes_128_ecb(), nullptr, key.data(), nullptr, encrypt ? 1 : 0) != 1) return false;
  // Exactly one block in, one block out: no padding.
  return EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
}

bool one_block(EVP_CIPHER_CTX* ctx, const Block& in, Block& out) {
  int len = 0;
  return EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) == 1 &&
         len == static_cast<int>(kAesBlockSize);
}

}  // namespace

std::optional<AesEcb> AesEcb::create(const Key& key) {
  CtxPtr enc(EVP_CIPHER_CTX_new());
  CtxPtr dec(EVP_CIPHER_CTX_new());
  if (!init(enc.get(), key, true) || !init(dec.get(), key, false)) return std::nullopt;
  return AesEcb(std::move(enc), std::move(dec));
}

bool AesEcb::encrypt(const Block& in, Block& out) const { return one_block(enc_.get(), in, out); }

bool AesEcb::decrypt(const Block& in, Block& out) const { return one_block(dec_.get(), in, out); }

}  // namespace roam::lb
