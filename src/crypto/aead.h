// AEAD packet protection (RFC 9001 5.3) behind one small interface, with a GnuTLS and an OpenSSL
// implementation. An Aead holds one key and a library context created once in the factory and
// reused for every packet; nothing is set up per call except the nonce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "common/error.h"
#include "common/types.h"
#include "crypto/algorithms.h"

namespace roam::crypto {

using Nonce = std::span<const std::uint8_t, kAeadNonceSize>;

class Aead {
 public:
  virtual ~Aead() = default;
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  AeadAlgorithm algorithm() const { return algorithm_; }
  Backend backend() const { return backend_; }

  // Encrypts `plaintext` and writes ciphertext || 16-byte tag to the front of `out`
  // (out.size() >= plaintext.size() + kAeadTagSize). In place is the intended use:
  // plaintext.data() == out.data(), the tag lands right after the ciphertext. Otherwise the two
  // must not overlap. Returns false only if the sizes are wrong or the library fails.
  [[nodiscard]] virtual bool seal(Nonce nonce, Bytes aad, Bytes plaintext, MutBytes out) const = 0;

  // Verifies and decrypts `ciphertext` (which ends with the tag) into the front of `out`
  // (out.size() >= ciphertext.size() - kAeadTagSize); in place allowed as for seal. Returns false
  // on authentication failure, in which case the bytes written to `out` are zeroed: unverified
  // plaintext is never released.
  [[nodiscard]] virtual bool open(Nonce nonce, Bytes aad, Bytes ciphertext, MutBytes out) const = 0;

  // Not thread-safe: one object serves one connection's packets sequentially (seal/open reuse the
  // library context, which is why they are const but not concurrent).

 protected:
  Aead(AeadAlgorithm algorithm, Backend backend) : algorithm_(algorithm), backend_(backend) {}

 private:
  AeadAlgorithm algorithm_;
  Backend backend_;
};

// Creates an AEAD for `key` (aead_key_size(algorithm) bytes). kAuto picks
// choose_backend(algorithm, kAuto). Fails with kInternalError on a wrong key size or a library
// error.
Result<std::unique_ptr<Aead>> make_aead(AeadAlgorithm algorithm, Bytes key, Backend backend = Backend::kAuto);

}  // namespace roam::crypto
