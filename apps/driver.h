// Runs a sans-IO Endpoint over real UDP sockets: the only place apps meet the kernel. One socket
// to start with; more for connection migration (a client probing from another address or port)
// or a server's preferred address. Each datagram the endpoint sends leaves from the socket bound
// to its local address.
#pragma once

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

namespace roam::apps {

class Driver {
 public:
  // Opens the socket; on failure prints one line to stderr and returns nullptr.
  static std::unique_ptr<Driver> create(const SocketAddress& bind, const endpoint::EndpointConfig& config,
                                        std::shared_ptr<tls::TlsContext> tls);

  endpoint::Endpoint& endpoint() { return *endpoint_; }
  // The first socket.
  const io::UdpSocket& socket() const { return sockets_.front()->socket; }
  // Opens another socket (port 0: the kernel picks one); returns its bound address, or prints
  // one line to stderr and returns nullopt.
  std::optional<SocketAddress> add_socket(const SocketAddress& bind);
  // Closes the socket bound to `local` (an interface that went away). Not the last one.
  void close_socket(const SocketAddress& local);
  bool has_socket(const SocketAddress& local) const;
  // Watches another file descriptor (a network monitor) in the same loop.
  void watch(int fd, std::function<void()> on_readable);
  Instant now() const { return loop_->now(); }

  // Runs until done() returns true or a signal stops the loop. after_io runs after each batch of
  // received datagrams and timers, before sending: the application reacts to events there.
  void run(const std::function<bool()>& done, const std::function<void()>& after_io);
  void stop() { stopped_ = true; }

 private:
  struct Socket {
    explicit Socket(io::UdpSocket s) : socket(std::move(s)) {}
    io::UdpSocket socket;
    std::vector<io::Transmit> pending;  // views into send_buf_, sent in order
    std::size_t pending_sent = 0;
  };

  Driver(io::UdpSocket socket, std::unique_ptr<io::EventLoop> loop, std::unique_ptr<endpoint::Endpoint> ep,
         std::unique_ptr<crypto::SystemRandom> rng);
  void receive_all(Socket& s);
  void flush();
  bool send_pending();
  Socket& socket_for(const SocketAddress& local);
  void watch_socket(Socket& s);

  std::vector<std::unique_ptr<Socket>> sockets_;
  std::unique_ptr<io::EventLoop> loop_;
  std::unique_ptr<crypto::SystemRandom> rng_;
  std::unique_ptr<endpoint::Endpoint> endpoint_;
  io::ReceiveBatch batch_;
  std::vector<std::uint8_t> send_buf_;
  bool running_ = false;
  bool stopped_ = false;
};

}  // namespace roam::apps
