// The backend's half of roam-lb's encapsulation (docs/load-balancing.md, "Backend mode"): which
// datagrams come from a load balancer, and through which load balancer each client's answers go.
//
// Answers go back through the load balancer that the client's most recent datagram came
// through. Any roam-lb could forward them (they keep no state), but the last one is known to be
// alive and to reach the client: with several load balancers behind ECMP, a balancer that dies
// takes no answers with it once the client's traffic has moved to the others. The cost is one
// small entry per (listen address, client address) pair, forgotten once no connection uses it.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/socket_address.h"
#include "common/types.h"

namespace roam::lb {

class ReturnPaths {
 public:
  struct Via {
    std::size_t lb = 0;    // index into load_balancers()
    SocketAddress local;   // our address the encapsulated datagram arrived on: answers leave from it
    Instant seen{};        // when the client's last datagram came through
  };

  explicit ReturnPaths(std::vector<SocketAddress> load_balancers) : lbs_(std::move(load_balancers)) {}

  const std::vector<SocketAddress>& load_balancers() const { return lbs_; }
  // The index of the load balancer whose backend socket is `source`, or nullopt.
  std::optional<std::size_t> lb_index(const SocketAddress& source) const;

  // A datagram from `client` to `listen` (the encapsulation header's fields) came through load
  // balancer `lb` and arrived on our address `local`.
  void record(const SocketAddress& listen, const SocketAddress& client, std::size_t lb, const SocketAddress& local,
              Instant now);
  // How to answer `client` from `listen`; nullptr when no datagram of that pair came through a
  // load balancer (or it was forgotten).
  const Via* find(const SocketAddress& listen, const SocketAddress& client) const;

  // Forgets pairs not heard from since `before` unless in_use(listen, client) says a connection
  // still has a path with them. Returns how many were forgotten.
  std::size_t prune(Instant before, const std::function<bool(const SocketAddress&, const SocketAddress&)>& in_use);
  std::size_t size() const { return vias_.size(); }

 private:
  struct Pair {
    SocketAddress listen;
    SocketAddress client;
    friend bool operator==(const Pair&, const Pair&) = default;
  };
  struct PairHash {
    std::size_t operator()(const Pair& p) const noexcept { return p.listen.hash() * 0x9e3779b97f4a7c15ULL ^ p.client.hash(); }
  };

  std::vector<SocketAddress> lbs_;
  std::unordered_map<Pair, Via, PairHash> vias_;
};

}  // namespace roam::lb
