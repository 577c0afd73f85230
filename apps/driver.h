// Runs a sans-IO Endpoint over real UDP sockets: the only place apps meet the kernel. One socket
// to start with; more for connection migration (a client probing from another address or port)
// or a server's preferred address. Each datagram the endpoint sends leaves from the socket bound
// to its local address.
//
// Behind roam-lb (DriverOptions::load_balancers, roam-server --behind-lb): a datagram from one of
// the load balancers' addresses carries an encapsulation header (lb/encap.h); the driver strips it
// and hands the payload to the endpoint as sent by the header's client to the header's listen
// address, so connections see their clients' real addresses. Everything the endpoint sends to
// such a client goes back encapsulated (client = peer, listen = local) to the load balancer the
// client's last datagram came through (lb::ReturnPaths says why), GSO batches included: each
// segment gets its own header and the batch stays one send. Other peers are served directly.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/socket_address.h"
#include "crypto/system_random.h"
#include "endpoint/endpoint.h"
#include "io/event_loop.h"
#include "io/receive_batch.h"
#include "io/udp_socket.h"
#include "lb/return_paths.h"

namespace roam::apps {

struct DriverOptions {
  // SO_REUSEPORT on every socket: one Driver per worker thread on one port (roam-server --workers).
  bool reuse_port = false;
  // UDP GRO on the sockets. Off for steered workers: the kernel picks a worker for a GRO train by
  // its first datagram, and behind a load balancer one train (one 4-tuple, the balancer's) can
  // hold datagrams of many connections, which would land on the first one's worker.
  bool gro = true;
  // run() stops on SIGINT/SIGTERM. Off for worker threads: their owner waits for the signal and
  // calls stop() on each.
  bool handle_signals = true;
  // The load balancers' backend sockets (roam-lb --backend-source): datagrams from these are
  // encapsulated. Empty: no load balancer.
  std::vector<SocketAddress> load_balancers;
};

// Counters of the load balancer mode, since create().
struct DriverStats {
  std::uint64_t from_load_balancers = 0;  // datagrams decapsulated and handed to the endpoint
  std::uint64_t bad_encapsulation = 0;    // from a load balancer without a valid header: dropped
  std::uint64_t to_load_balancers = 0;    // datagrams (GSO segments counted) sent encapsulated
};

class Driver {
 public:
  // Opens the socket; on failure prints one line to stderr and returns nullptr.
  static std::unique_ptr<Driver> create(const SocketAddress& bind, const endpoint::EndpointConfig& config,
                                        std::shared_ptr<tls::TlsContext> tls, const DriverOptions& options = {});

  endpoint::Endpoint& endpoint() { return *endpoint_; }
  const endpoint::Endpoint& endpoint() const { return *endpoint_; }
  // The first socket.
  const io::UdpSocket& socket() const { return sockets_.front()->socket; }
  // Opens another socket (port 0: the kernel picks one); returns its bound address, or prints
  // one line to stderr and returns nullopt.
  std::optional<SocketAddress> add_socket(const SocketAddress& bind);
  // Closes the socket bound to `local` (an interface that went away). Not the last one.
  void close_socket(const SocketAddress& local);
  bool has_socket(const SocketAddress& local) const;
  // The socket bound to exactly `local`, or nullptr (to attach a steering program to its group).
  const io::UdpSocket* find_socket(const SocketAddress& local) const;
  // Watches another file descriptor (a network monitor) in the same loop.
  void watch(int fd, std::function<void()> on_readable);
  Instant now() const { return loop_->now(); }

  // Runs until done() returns true or a signal stops the loop. after_io runs after each batch of
  // received datagrams and timers, before sending: the application reacts to events there.
  void run(const std::function<bool()>& done, const std::function<void()>& after_io);
  // Safe from any thread: run() returns within one loop wait (at most 100 ms).
  void stop() { stopped_ = true; }

  const DriverStats& stats() const { return stats_; }

 private:
  struct Socket {
    explicit Socket(io::UdpSocket s) : socket(std::move(s)) {}
    io::UdpSocket socket;
    std::vector<io::Transmit> pending;  // views into send_buf_, sent in order
    std::size_t pending_sent = 0;
  };

  // Where a transmit to a client behind a load balancer goes: the balancer, and our address to
  // send from (unspecified: the kernel picks).
  struct LbRoute {
    SocketAddress lb;
    SocketAddress local;
  };

  Driver(io::UdpSocket socket, std::unique_ptr<io::EventLoop> loop, std::unique_ptr<endpoint::Endpoint> ep,
         std::unique_ptr<crypto::SystemRandom> rng, const DriverOptions& options);
  void receive_all(Socket& s);
  void flush();
  bool send_pending();
  Socket& socket_for(const SocketAddress& local);
  bool is_our_address(const SocketAddress& local) const;
  std::optional<LbRoute> lb_route(const SocketAddress& local, const SocketAddress& peer) const;
  void prune_return_paths(Instant now);
  void watch_socket(Socket& s);

  std::vector<std::unique_ptr<Socket>> sockets_;
  std::unique_ptr<io::EventLoop> loop_;
  std::unique_ptr<crypto::SystemRandom> rng_;
  std::unique_ptr<endpoint::Endpoint> endpoint_;
  io::ReceiveBatch batch_;
  std::vector<std::uint8_t> send_buf_;
  DriverOptions options_;
  std::optional<lb::ReturnPaths> return_paths_;  // set behind load balancers
  Instant next_prune_{};
  DriverStats stats_;
  bool running_ = false;
  std::atomic<bool> stopped_ = false;
};

}  // namespace roam::apps
