// The CID generator of a server behind roam-lb: every CID it issues (the handshake's SCID and
// every NEW_CONNECTION_ID) is a QUIC-LB CID naming this server and this worker, so every CID of a
// connection, on every path, routes to the same place, while (with a key) no two CIDs can be
// linked without the key.
//
// Layout of the server ID: host ID || worker ID. The load balancer's backend table names hosts
// (it matches the host ID as a prefix of the server ID, see Router); the host steers to a worker
// with the low worker_bytes octets. Both are inside the encrypted block, so with a key neither is
// visible on the wire. For steering inside the kernel without decryption (a later SO_REUSEPORT
// cBPF program) the worker must sit at a fixed offset in the clear; steering_offset() says where,
// and docs/load-balancing.md explains the two ways to get there and what each one gives away.
//
// Nonces: a counter from a random start (never reused until it wraps; the draft's cid-entropy
// advice), passed through a four-pass permutation under a key drawn at construction, so nonces are
// unique *and* show no relationship to each other, which the draft requires of plaintext configs
// and which also denies known-plaintext pairs to an attacker of the four-pass algorithm.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "cid/generator.h"
#include "common/random.h"
#include "lb/codec.h"

namespace roam::lb {

struct WorkerLayout {
  // Low octets of the server ID that name the worker (0..4; 0: no worker field). The host ID
  // takes the rest: server_id_len - worker_bytes octets, at least one.
  std::size_t worker_bytes = 1;
  // Also append the worker ID as one plaintext octet after the QUIC-LB part of the CID, for
  // steering without decryption under an encrypted config. Costs unlinkability across workers
  // (see docs/load-balancing.md); off by default.
  bool steering_byte = false;
};

class RoutableCidGenerator final : public cid::CidGenerator {
 public:
  // host_id: this server's ID as the load balancer's backend table has it. worker_id must fit
  // in worker_bytes (and in one octet with steering_byte). random seeds the nonce counter and the
  // nonce permutation key.
  static ConfigResult<std::unique_ptr<RoutableCidGenerator>> create(const Config& config, Bytes host_id,
                                                                   std::uint32_t worker_id, Random& random,
                                                                   WorkerLayout layout = {});

  std::size_t length() const override { return length_; }
  // A fresh routable CID. Not thread-safe (one generator per worker thread). Once the nonce space
  // is used up (2^(8 * nonce_len) CIDs) it issues unroutable CIDs (config rotation 0b111, as the
  // draft requires); a new config must be deployed before that.
  ConnectionId generate(Random& random) const override;

  // The worker named by a CID this host issued: decrypts the server ID (and checks the steering
  // octet when there is one). nullopt for a CID of another config, another host, or garbage.
  std::optional<std::uint32_t> worker_of(Bytes dcid) const;
  // Where the worker ID can be read in the clear, one octet at this offset from the start of the
  // CID: the steering octet, or the last server ID octet of a plaintext config with a one-octet
  // worker field. nullopt when the worker is only readable by decrypting.
  std::optional<std::size_t> steering_offset() const;

  const CidCodec& codec() const { return codec_; }
  const ServerId& server_id() const { return server_id_; }
  std::uint32_t worker_id() const { return worker_id_; }
  std::uint64_t issued() const { return issued_; }
  bool exhausted() const;

 private:
  RoutableCidGenerator(CidCodec codec, AesEcb nonce_cipher, const ServerId& server_id, std::uint32_t worker_id,
                       WorkerLayout layout);

  CidCodec codec_;
  AesEcb nonce_cipher_;  // server-local key: permutes the counter into nonces
  ServerId server_id_;
  std::uint32_t worker_id_;
  WorkerLayout layout_;
  std::size_t length_;
  mutable Nonce counter_;  // big-endian, nonce_len octets
  mutable std::uint64_t issued_ = 0;
};

}  // namespace roam::lb
