// Internal helpers around the GnuTLS C API: owning wrappers, algorithm mapping, encodings.
// Only src/tls includes this header; the public headers keep <gnutls/gnutls.h> out.
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/types.h"
#include "tls/cipher_suite.h"

namespace roam::tls::detail {

// A gnutls_datum_t whose data GnuTLS allocated (gnutls_*2 export functions); freed on scope exit.
class OwnedDatum {
 public:
  OwnedDatum() = default;
  OwnedDatum(const OwnedDatum&) = delete;
  OwnedDatum& operator=(const OwnedDatum&) = delete;
  ~OwnedDatum() { gnutls_free(d_.data); }
  gnutls_datum_t* out() { return &d_; }
  Bytes bytes() const { return {d_.data, d_.size}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(d_.data), d_.size}; }

 private:
  gnutls_datum_t d_{nullptr, 0};
};

// A borrowed view as a datum, for GnuTLS inputs (GnuTLS never writes through it).
inline gnutls_datum_t as_datum(std::string_view s) {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
          static_cast<unsigned int>(s.size())};
}

struct CrtDeleter {
  void operator()(gnutls_x509_crt_int* p) const { gnutls_x509_crt_deinit(p); }
};
struct PrivkeyDeleter {
  void operator()(gnutls_x509_privkey_int* p) const { gnutls_x509_privkey_deinit(p); }
};

// The cipher suite GnuTLS negotiated, or nullopt for one QUIC does not use here (e.g. CCM).
std::optional<CipherSuite> suite_from_gnutls(gnutls_cipher_algorithm_t cipher,
                                             gnutls_digest_algorithm_t prf);

// The priority-string keyword enabling this AEAD, e.g. "+AES-128-GCM".
std::string_view priority_keyword(Aead aead);

// "AB:CD:EF" (upper case), the usual rendering of certificate fingerprints.
std::string hex_colon(Bytes bytes);

// Standard base64 with padding, no line breaks.
std::string base64(Bytes bytes);

}  // namespace roam::tls::detail
