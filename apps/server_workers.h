// roam-server --workers N: N threads, each with its own Endpoint and Driver and its own
// SO_REUSEPORT socket on the one port, and a classic BPF program (io/reuseport_steering.h) that
// hands each datagram to the worker named in its DCID. A connection therefore stays on one worker
// for its whole life, on every path: the kernel reads the worker octet, not the 4-tuple, so a
// client that migrates or is rebound by a NAT still lands where its connection lives. Workers share
// nothing but the TLS context (credentials, key log, anti-replay cache: thread-safe) and the
// stateless reset key, so any worker can reset a CID of the host.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "driver.h"
#include "lb_backend.h"

namespace roam::apps {

struct WorkerGroupOptions {
  std::uint32_t workers = 1;
  // One per worker (lb_backend.h); with one worker a null generator means random CIDs.
  std::vector<WorkerCids> cids;
  std::vector<SocketAddress> load_balancers;  // --behind-lb
};

class WorkerGroup {
 public:
  // Opens every worker's socket in worker order (the group's socket indexes are the worker
  // indexes) and attaches the steering program. On failure prints one line and returns nullptr.
  static std::unique_ptr<WorkerGroup> create(const SocketAddress& bind, endpoint::EndpointConfig config,
                                             std::shared_ptr<tls::TlsContext> tls, const WorkerGroupOptions& options);

  std::uint32_t size() const { return static_cast<std::uint32_t>(drivers_.size()); }
  Driver& driver(std::uint32_t worker) { return *drivers_[worker]; }
  // The bound address (with the real port when the bind asked for port 0).
  const SocketAddress& address() const { return drivers_.front()->socket().local_address(); }
  // Another address for every worker (a preferred address), steered the same way. Prints one
  // line and returns false on failure.
  bool add_socket(const SocketAddress& bind);

  // Runs serve(driver, worker) for every worker until SIGINT or SIGTERM: in this thread with one
  // worker, else one thread each while this thread waits for the signal and then stops them.
  void run(const std::function<void(Driver&, std::uint32_t worker)>& serve);

  // "worker 2: 7 connections accepted, 51234 datagrams in, 0 dropped, 0 stateless resets sent, ..."
  std::string summary(std::uint32_t worker) const;

 private:
  WorkerGroup() = default;
  bool steer(const SocketAddress& address);

  std::vector<std::unique_ptr<Driver>> drivers_;
  std::vector<WorkerCids> cids_;
  bool encapsulated_ = false;
};

}  // namespace roam::apps
