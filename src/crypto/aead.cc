#include "crypto/aead.h"

#include "crypto/backends.h"
#include "crypto/header_protection.h"

namespace roam::crypto {

Result<std::unique_ptr<Aead>> make_aead(AeadAlgorithm algorithm, Bytes key, Backend backend) {
  if (key.size() != aead_key_size(algorithm)) return Error{TransportError::kInternalError, "AEAD key has wrong size"};
  if (choose_backend(algorithm, backend) == Backend::kGnuTls) return detail::make_gnutls_aead(algorithm, key);
  return detail::make_openssl_aead(algorithm, key);
}

Result<std::unique_ptr<HeaderProtector>> make_header_protector(AeadAlgorithm algorithm, Bytes hp_key, Backend backend) {
  if (hp_key.size() != hp_key_size(algorithm)) {
    return Error{TransportError::kInternalError, "header protection key has wrong size"};
  }
  if (choose_hp_backend(algorithm, backend) == Backend::kGnuTls) {
    return detail::make_gnutls_header_protector(algorithm, hp_key);
  }
  return detail::make_openssl_header_protector(algorithm, hp_key);
}

}  // namespace roam::crypto
