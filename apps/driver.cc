#include "driver.h"

#include <csignal>
#include <cstdio>

namespace roam::apps {

namespace {
constexpr std::size_t kTransmitsPerFlush = 16;
constexpr std::size_t kSegmentsPerTransmit = 32;
constexpr std::size_t kMaxDatagram = 1500;
io::SocketOptions socket_options() {
  io::SocketOptions so;
  so.recv_buffer_bytes = 8 << 20;
  so.send_buffer_bytes = 8 << 20;
  return so;
}

}  // namespace

std::unique_ptr<Driver> Driver::create(const SocketAddress& bind, const endpoint::EndpointConfig& config,
                                       std::shared_ptr<tls::TlsContext> tls) {
  auto sock = io::UdpSocket::open(bind, socket_options());
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
    : loop_(std::move(loop)),
      rng_(std::move(rng)),
      endpoint_(std::move(ep)),
      send_buf_(kTransmitsPerFlush * kSegmentsPerTransmit * kMaxDatagram) {
  sockets_.push_back(std::make_unique<Socket>(std::move(socket)));
}

std::optional<SocketAddress> Driver::add_socket(const SocketAddress& bind) {
  auto sock = io::UdpSocket::open(bind, socket_options());
  if (!sock) {
    std::fprintf(stderr, "error: cannot open UDP socket on %s: %s\n", bind.to_string().c_str(),
                 sock.error().message().c_str());
    return std::nullopt;
  }
  sockets_.push_back(std::make_unique<Socket>(std::move(sock).value()));
  if (running_) watch_socket(*sockets_.back());
  return sockets_.back()->socket.local_address();
}

void Driver::close_socket(const SocketAddress& local) {
  if (sockets_.size() < 2) return;
  for (auto it = sockets_.begin(); it != sockets_.end(); ++it) {
    if ((*it)->socket.local_address() != local) continue;
    (void)loop_->unwatch((*it)->socket.fd());
    sockets_.erase(it);  // unsent datagrams for it are dropped: the interface is gone
    return;
  }
}

bool Driver::has_socket(const SocketAddress& local) const {
  for (const auto& s : sockets_) {
    if (s->socket.local_address() == local) return true;
  }
  return false;
}

void Driver::watch(int fd, std::function<void()> on_readable) { (void)loop_->watch(fd, std::move(on_readable)); }

void Driver::watch_socket(Socket& s) {
  (void)loop_->watch(
      s.socket.fd(), [this, &s] { receive_all(s); }, [this] { flush(); });
}

Driver::Socket& Driver::socket_for(const SocketAddress& local) {
  // The socket bound to exactly this address, else one bound to the wildcard address with this
  // port (the kernel then sends from `local` through PKTINFO), else the first.
  for (auto& s : sockets_) {
    if (s->socket.local_address() == local) return *s;
  }
  for (auto& s : sockets_) {
    const auto& a = s->socket.local_address();
    if (a.is_unspecified() && a.port() == local.port()) return *s;
  }
  return *sockets_.front();
}

void Driver::receive_all(Socket& s) {
  // Drain the socket (bounded, so timers and sending are not starved).
  for (int round = 0; round < 16; ++round) {
    const std::size_t n = s.socket.receive(batch_);
    if (n == 0) break;
    const Instant now = loop_->now();
    for (const auto& d : batch_) {
      // The batch owns its (mutable) receive buffer; the connection decrypts in place.
      MutBytes data(const_cast<std::uint8_t*>(d.data.data()), d.data.size());
      endpoint_->on_datagram(d.local, d.peer, d.ecn, data, now);
    }
  }
}

bool Driver::send_pending() {
  bool blocked = false;
  for (auto& sp : sockets_) {
    Socket& s = *sp;
    while (s.pending_sent < s.pending.size()) {
      auto res = s.socket.send(std::span(s.pending).subspan(s.pending_sent));
      s.pending_sent += res.sent;
      if (res.status == io::SendStatus::kWouldBlock) {
        (void)loop_->want_writable(s.socket.fd(), true);
        blocked = true;
        break;
      }
      if (!res.ok()) s.pending_sent += 1;  // drop the datagram the kernel refused; loss recovery resends
    }
    if (s.pending_sent >= s.pending.size()) {
      s.pending.clear();
      s.pending_sent = 0;
      (void)loop_->want_writable(s.socket.fd(), false);
    }
  }
  return !blocked;
}

void Driver::flush() {
  for (int rounds = 0; rounds < 64; ++rounds) {
    // The send buffer is shared: new datagrams only once every socket sent what it had.
    if (!send_pending()) return;
    const Instant now = loop_->now();
    std::size_t off = 0;
    std::size_t produced = 0;
    for (std::size_t i = 0; i < kTransmitsPerFlush; ++i) {
      // Segments per batch: what the first socket's GSO allows (all sockets share the kernel).
      const auto& caps = sockets_.front()->socket.capabilities();
      const std::size_t segments = caps.gso ? std::min(kSegmentsPerTransmit, caps.max_gso_segments) : 1;
      MutBytes room(send_buf_.data() + off, segments * kMaxDatagram);
      auto t = endpoint_->poll_transmit(now, room, segments);
      if (!t) break;
      Socket& s = socket_for(t->local);
      const std::size_t seg = s.socket.capabilities().gso ? t->segment_size : t->size;
      io::Transmit x;
      x.local = t->local;
      x.peer = t->peer;
      x.ecn = t->ecn;
      x.data = Bytes(room.data(), t->size);
      x.segment_size = t->segment_size == t->size ? 0 : t->segment_size;
      if (seg == t->size && x.segment_size != 0) {
        // This socket cannot segment: send the batch as separate datagrams.
        for (std::size_t o = 0; o < t->size; o += t->segment_size) {
          io::Transmit one = x;
          one.data = Bytes(room.data() + o, std::min(t->segment_size, t->size - o));
          one.segment_size = 0;
          s.pending.push_back(one);
        }
      } else {
        s.pending.push_back(x);
      }
      off += segments * kMaxDatagram;
      ++produced;
    }
    if (produced == 0) return;
  }
}

void Driver::run(const std::function<bool()>& done, const std::function<void()>& after_io) {
  (void)loop_->watch_signals({SIGINT, SIGTERM}, [this](int) { stopped_ = true; });
  if (!running_) {
    running_ = true;
    for (auto& s : sockets_) watch_socket(*s);
  }
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
