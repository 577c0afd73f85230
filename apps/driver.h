// Runs a sans-IO Endpoint over a real UDP socket: the only place apps meet the kernel.
#pragma once

#include <functional>
#include <memory>
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
  const io::UdpSocket& socket() const { return socket_; }
  Instant now() const { return loop_->now(); }

  // Runs until done() returns true or a signal stops the loop. after_io runs after each batch of
  // received datagrams and timers, before sending: the application reacts to events there.
  void run(const std::function<bool()>& done, const std::function<void()>& after_io);
  void stop() { stopped_ = true; }

 private:
  Driver(io::UdpSocket socket, std::unique_ptr<io::EventLoop> loop, std::unique_ptr<endpoint::Endpoint> ep,
         std::unique_ptr<crypto::SystemRandom> rng);
  void receive_all();
  void flush();

  io::UdpSocket socket_;
  std::unique_ptr<io::EventLoop> loop_;
  std::unique_ptr<crypto::SystemRandom> rng_;
  std::unique_ptr<endpoint::Endpoint> endpoint_;
  io::ReceiveBatch batch_;
  std::vector<std::uint8_t> send_buf_;
  std::vector<io::Transmit> pending_;
  std::size_t pending_sent_ = 0;
  bool stopped_ = false;
};

}  // namespace roam::apps
