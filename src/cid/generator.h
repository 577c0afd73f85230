// Where local connection IDs come from. The connection never invents CIDs itself: a generator is
// injected, so a server behind a load balancer can issue routable CIDs (QUIC-LB) and a test can
// issue predictable ones.
#pragma once

#include <cstddef>

#include "common/random.h"
#include "common/types.h"

namespace roam::cid {

class CidGenerator {
 public:
  virtual ~CidGenerator() = default;
  // Length of every CID this generator produces (the endpoint parses short headers with it).
  virtual std::size_t length() const = 0;
  virtual ConnectionId generate(Random& random) const = 0;
};

// Unpredictable CIDs of a fixed length (at least 8 bytes for servers: RFC 9000 7.2 asks clients
// for 8, and short CIDs make collisions and linkability likelier).
class RandomCidGenerator final : public CidGenerator {
 public:
  explicit RandomCidGenerator(std::size_t length = 8) : length_(length) {}
  std::size_t length() const override { return length_; }
  ConnectionId generate(Random& random) const override {
    ConnectionId cid;
    cid.resize(length_);
    random.fill(MutBytes(cid.mutable_data(), length_));
    return cid;
  }

 private:
  std::size_t length_;
};

}  // namespace roam::cid
