#include "driver.h"

#include <csignal>
#include <cstdio>

namespace roam::apps {

namespace {
constexpr std::size_t kTransmitsPerFlush = 16;
constexpr std::size_t kSegmentsPerTransmit = 32;
constexpr std::size_t kMaxDatagram = 1500;
}  // namespace

std::unique_ptr<Driver> Driver::create(const SocketAddress& bind, const endpoint::EndpointConfig& config,
                                       std::shared_ptr<tls::TlsContext> tls) {
  io::SocketOptions so;
  so.recv_buffer_bytes = 8 << 20;
  so.send_buffer_bytes = 8 << 20;
  auto sock = io::UdpSocket::open(bind, so);
  if (!sock) {
    std::fprintf(stderr, "error: cannot open UDP socket on %s: %s\n", bind.to_string().c_str(),
                 sock.error().message().c_str());
    return nullptr;
  }
  auto loop = io::EventLoop::create();
  if (!loop) {
    std::fprintf(stderr, "error: cannot create event loop: %s\n", loop.error().message().c_str());
    return nullptr;
  }
  auto rng = std::make_unique<crypto::SystemRandom>();
  auto ep = std::make_unique<endpoint::Endpoint>(config, std::move(tls), *rng);
  return std::unique_ptr<Driver>(
      new Driver(std::move(sock).value(), std::move(loop).value(), std::move(ep), std::move(rng)));
}

Driver::Driver(io::UdpSocket socket, std::unique_ptr<io::EventLoop> loop, std::unique_ptr<endpoint::Endpoint> ep,
               std::unique_ptr<crypto::SystemRandom> rng)
    : socket_(std::move(socket)),
      loop_(std::move(loop)),
      rng_(std::move(rng)),
      endpoint_(std::move(ep)),
      send_buf_(kTransmitsPerFlush * kSegmentsPerTransmit * kMaxDatagram) {}

void Driver::receive_all() {
  // Drain the socket (bounded, so timers and sending are not starved).
  for (int round = 0; round < 16; ++round) {
    const std::size_t n = socket_.receive(batch_);
    if (n == 0) break;
    const Instant now = loop_->now();
    for (const auto& d : batch_) {
      // The batch owns its (mutable) receive buffer; the connection decrypts in place.
      MutBytes data(const_cast<std::uint8_t*>(d.data.data()), d.data.size());
      endpoint_->on_datagram(d.local, d.peer, d.ecn, data, now);
    }
  }
}

void Driver::flush() {
  const std::size_t segments =
      socket_.capabilities().gso ? std::min(kSegmentsPerTransmit, socket_.capabilities().max_gso_segments) : 1;
  for (int rounds = 0; rounds < 64; ++rounds) {
    if (pending_sent_ < pending_.size()) {
      auto res = socket_.send(std::span(pending_).subspan(pending_sent_));
      pending_sent_ += res.sent;
      if (res.status == io::SendStatus::kWouldBlock) {
        (void)loop_->want_writable(socket_.fd(), true);
        return;
      }
      if (!res.ok()) pending_sent_ += 1;  // drop the datagram the kernel refused; loss recovery resends
      if (pending_sent_ < pending_.size()) continue;
    }
    pending_.clear();
    pending_sent_ = 0;
    const Instant now = loop_->now();
    std::size_t off = 0;
    for (std::size_t i = 0; i < kTransmitsPerFlush; ++i) {
      MutBytes room(send_buf_.data() + off, segments * kMaxDatagram);
      auto t = endpoint_->poll_transmit(now, room, segments);
      if (!t) break;
      io::Transmit x;
      x.local = t->local;
      x.peer = t->peer;
      x.ecn = t->ecn;
      x.data = Bytes(room.data(), t->size);
      x.segment_size = t->segment_size == t->size ? 0 : t->segment_size;
      pending_.push_back(x);
      off += segments * kMaxDatagram;
    }
    if (pending_.empty()) {
      (void)loop_->want_writable(socket_.fd(), false);
      return;
    }
  }
}

void Driver::run(const std::function<bool()>& done, const std::function<void()>& after_io) {
  (void)loop_->watch_signals({SIGINT, SIGTERM}, [this](int) { stopped_ = true; });
  (void)loop_->watch(
      socket_.fd(), [this] { receive_all(); }, [this] { flush(); });
  while (!stopped_ && !done()) {
    Duration wait = std::chrono::milliseconds(100);
    if (auto t = endpoint_->next_timeout()) {
      const Instant now = loop_->now();
      wait = *t > now ? std::min(wait, *t - now) : Duration::zero();
    }
    auto r = loop_->run_once(wait);
    if (!r) break;
    endpoint_->on_timeout(loop_->now());
    after_io();
    flush();
    endpoint_->reap();
  }
  flush();
}

}  // namespace roam::apps
