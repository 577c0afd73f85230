// Builds and reads QUIC-LB connection IDs for one configuration (draft sections 5.4 and 5.5):
// the server encodes its server ID and a nonce, the load balancer decodes the server ID. Decoding
// takes bytes from the network: any input gives a server ID or "unroutable", never a crash.
#pragma once

#include <optional>

#include "common/types.h"
#include "lb/aes_ecb.h"
#include "lb/config.h"

namespace roam::lb {

struct Plaintext {
  ServerId server_id;
  Nonce nonce;
};

class CidCodec {
 public:
  // Validates the config (see validate()) and prepares the cipher.
  static ConfigResult<CidCodec> create(const Config& config);

  const Config& config() const { return config_; }
  Algorithm algorithm() const { return config_.algorithm(); }

  // First octet (config ID, then CID length - 1 when config().encode_length, else the low 5 bits
  // of random_bits), server ID and nonce (encrypted as the config says), then suffix: bytes the
  // server appends for its own use (counted in the self-described length, ignored by the load
  // balancer). Errors: server ID or nonce of the wrong length, a CID longer than 20 octets.
  ConfigResult<ConnectionId> encode(Bytes server_id, Bytes nonce, Bytes suffix = {},
                                    std::uint8_t random_bits = 0) const;

  // The server ID in a CID of known length (a long header's DCID, a CID typed by a user).
  // nullopt means unroutable by this config: other config rotation bits, too short, or (with
  // encode_length) a self-described length other than cid.size() - 1. A load balancer that finds
  // the server ID needs three AES passes when the server ID is no longer than the nonce, else four.
  std::optional<ServerId> server_id(Bytes cid) const;
  // The same for bytes that start with a CID whose length is not on the wire (a short header's
  // DCID runs into the packet): reads only the octets the config needs, and with encode_length
  // checks that the self-described length is large enough and fits in `bytes`.
  std::optional<ServerId> server_id_in_prefix(Bytes bytes) const;
  // Server ID and nonce (every pass), with the acceptance rules of server_id().
  std::optional<Plaintext> decrypt(Bytes cid) const;

 private:
  CidCodec(const Config& config, std::optional<AesEcb> aes) : config_(config), aes_(std::move(aes)) {}

  // Plaintext block (server ID || nonce) of the CID starting at cid[0], after the checks above.
  bool open(Bytes cid, bool whole, MutBytes out) const;
  bool acceptable(Bytes cid, bool exact) const;

  Config config_;
  std::optional<AesEcb> aes_;
};

}  // namespace roam::lb
