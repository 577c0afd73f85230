// CIDs for a server with several workers behind one UDP port and no QUIC-LB configuration
// (roam-server --workers N without --lb-config): random, except the last octet, which is the
// worker's index, so the kernel's steering program (io/reuseport_steering.h) can deliver every
// datagram of a connection to the worker that owns it, whatever the client's address.
//
// What the octet gives away: "these two CIDs belong to the same worker (or not)", about log2(N)
// bits shared with 1/N of the server's connections; the other octets are random and unlinkable.
// With a QUIC-LB configuration the worker rides in RoutableCidGenerator's steering octet instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "cid/generator.h"
#include "lb/config.h"

namespace roam::lb {

class WorkerCidGenerator final : public cid::CidGenerator {
 public:
  static constexpr std::size_t kMinLength = 4;  // at least 3 random octets besides the worker's

  // length: kMinLength..20. Errors name the value that is wrong.
  static ConfigResult<WorkerCidGenerator> create(std::size_t length, std::uint8_t worker);

  std::size_t length() const override { return length_; }
  ConnectionId generate(Random& random) const override;

  // Offset of the worker octet in every CID (the last octet).
  std::size_t worker_offset() const { return length_ - 1; }
  std::uint8_t worker() const { return worker_; }
  // The worker a CID of ours names; nullopt when its length is not ours.
  std::optional<std::uint8_t> worker_of(Bytes dcid) const;

 private:
  WorkerCidGenerator(std::size_t length, std::uint8_t worker) : length_(length), worker_(worker) {}
  std::size_t length_;
  std::uint8_t worker_;
};

}  // namespace roam::lb
