// AES-128 on single 16-byte blocks (ECB), the only cipher QUIC-LB uses (draft section 5.4). The
// contexts are created once with the key; a block costs one EVP update, no allocation.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "common/types.h"

namespace roam::lb {

inline constexpr std::size_t kAesBlockSize = 16;
inline constexpr std::size_t kKeySize = 16;

using Block = std::array<std::uint8_t, kAesBlockSize>;
using Key = std::array<std::uint8_t, kKeySize>;

class AesEcb {
 public:
  // nullopt only when the library cannot create a context (out of memory).
  static std::optional<AesEcb> create(const Key& key);

  AesEcb(AesEcb&&) noexcept = default;
  AesEcb& operator=(AesEcb&&) noexcept = default;

  // in and out may be the same block. Not thread-safe: the contexts are reused, like crypto::Aead.
  // Both return false only if the library fails.
  [[nodiscard]] bool encrypt(const Block& in, Block& out) const;
  [[nodiscard]] bool decrypt(const Block& in, Block& out) const;

 private:
  struct CtxDeleter {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  };
  using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

  AesEcb(CtxPtr enc, CtxPtr dec) : enc_(std::move(enc)), dec_(std::move(dec)) {}

  CtxPtr enc_;
  CtxPtr dec_;
};

}  // namespace roam::lb
