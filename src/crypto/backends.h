// Internal: the per-library constructors behind make_aead() and make_header_protector(). Key sizes
// are validated by the callers; these only talk to the library.
#pragma once

#include <memory>

#include "common/error.h"
#include "common/types.h"
#include "crypto/aead.h"
#include "crypto/header_protection.h"

namespace roam::crypto::detail {

Result<std::unique_ptr<Aead>> make_gnutls_aead(AeadAlgorithm algorithm, Bytes key);
Result<std::unique_ptr<Aead>> make_openssl_aead(AeadAlgorithm algorithm, Bytes key);

Result<std::unique_ptr<HeaderProtector>> make_gnutls_header_protector(AeadAlgorithm algorithm, Bytes key);
Result<std::unique_ptr<HeaderProtector>> make_openssl_header_protector(AeadAlgorithm algorithm, Bytes key);

}  // namespace roam::crypto::detail
