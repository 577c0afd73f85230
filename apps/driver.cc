#include "driver.h"

#include <csignal>
#include <cstdio>
#include <unordered_set>
#include <utility>

#include "lb/encap.h"

namespace roam::apps {

namespace {
constexpr std::size_t kTransmitsPerFlush = 16;
constexpr std::size_t kSegmentsPerTransmit = 32;
constexpr std::size_t kMaxDatagram = 1500;
// Each transmit's slot in the send buffer also holds an encapsulation header per segment.
constexpr std::size_t kSlotPerSegment = kMaxDatagram + lb::kEncapMaxHeaderSize;
// Return paths not heard from for this long, and used by no connection, are forgotten.
constexpr Duration kReturnPathIdle = std::chrono::seconds(60);
constexpr Duration kPruneEvery = std::chrono::seconds(10);

io::SocketOptions socket_options(const DriverOptions& options) {
  io::SocketOptions so;
  so.recv_buffer_bytes = 8 << 20;
  so.send_buffer_bytes = 8 << 20;
  so.reuse_port = options.reuse_port;
  so.gro = options.gro;
  return so;
}

struct PairHash {
  std::size_t operator()(const std::pair<SocketAddress, SocketAddress>& p) const noexcept {
    return p.first.hash() * 0x9e3779b97f4a7c15ULL ^ p.second.hash();
  }
};

}  // namespace

std::unique_ptr<Driver> Driver::create(const SocketAddress& bind, const endpoint::EndpointConfig& config,
                                       std::shared_ptr<tls::TlsContext> tls, const DriverOptions& options) {
  auto sock = io::UdpSocket::open(bind, socket_options(options));
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
      new Driver(std::move(sock).value(), std::move(loop).value(), std::move(ep), std::move(rng), options));
}

Driver::Driver(io::UdpSocket socket, std::unique_ptr<io::EventLoop> loop, std::unique_ptr<endpoint::Endpoint> ep,
               std::unique_ptr<crypto::SystemRandom> rng, const DriverOptions& options)
    : loop_(std::move(loop)),
      rng_(std::move(rng)),
      endpoint_(std::move(ep)),
      send_buf_(kTransmitsPerFlush * kSegmentsPerTransmit * kSlotPerSegment),
      options_(options) {
  sockets_.push_back(std::make_unique<Socket>(std::move(socket)));
  if (!options_.load_balancers.empty()) return_paths_.emplace(options_.load_balancers);
}

std::optional<SocketAddress> Driver::add_socket(const SocketAddress& bind) {
  auto sock = io::UdpSocket::open(bind, socket_options(options_));
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

bool Driver::has_socket(const SocketAddress& local) const { return find_socket(local) != nullptr; }

const io::UdpSocket* Driver::find_socket(const SocketAddress& local) const {
  for (const auto& s : sockets_) {
    if (s->socket.local_address() == local) return &s->socket;
  }
  return nullptr;
}

bool Driver::is_our_address(const SocketAddress& local) const {
  for (const auto& s : sockets_) {
    const auto& a = s->socket.local_address();
    if (a == local || (a.is_unspecified() && a.port() == local.port())) return true;
  }
  return false;
}

std::optional<Driver::LbRoute> Driver::lb_route(const SocketAddress& local, const SocketAddress& peer) const {
  if (!return_paths_) return std::nullopt;
  if (const auto* via = return_paths_->find(local, peer)) {
    return LbRoute{return_paths_->load_balancers()[via->lb], via->local};
  }
  // A path whose local address is not ours can only be a load balancer's listen address whose
  // client we have not heard from lately: any of the (stateless) balancers can carry it.
  if (!is_our_address(local)) return LbRoute{return_paths_->load_balancers().front(), SocketAddress()};
  return std::nullopt;
}

void Driver::prune_return_paths(Instant now) {
  if (!return_paths_ || return_paths_->size() == 0 || now < next_prune_) return;
  next_prune_ = now + kPruneEvery;
  std::unordered_set<std::pair<SocketAddress, SocketAddress>, PairHash> in_use;
  endpoint_->for_each_connection([&](endpoint::ConnectionHandle, conn::Connection& c) {
    for (const auto& p : c.paths()) in_use.emplace(p.local, p.peer);
  });
  return_paths_->prune(now - kReturnPathIdle, [&](const SocketAddress& listen, const SocketAddress& client) {
    return in_use.contains({listen, client});
  });
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
      if (return_paths_) {
        if (const auto lb = return_paths_->lb_index(d.peer)) {
          auto dec = lb::decode_encap(d.data);
          if (!dec || dec->header.client.port() == 0 || dec->header.client.is_unspecified()) {
            ++stats_.bad_encapsulation;
            continue;
          }
          ++stats_.from_load_balancers;
          return_paths_->record(dec->header.listen, dec->header.client, *lb, d.local, now);
          const std::size_t at = static_cast<std::size_t>(dec->payload.data() - d.data.data());
          // The client's ECN codepoint rides on the outer datagram (roam-lb copies it).
          endpoint_->on_datagram(dec->header.listen, dec->header.client, d.ecn, data.subspan(at), now);
          continue;
        }
      }
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
      // The endpoint fills the front of the slot; the rest is room for encapsulation headers.
      MutBytes slot(send_buf_.data() + off, segments * kSlotPerSegment);
      auto t = endpoint_->poll_transmit(now, slot.first(segments * kMaxDatagram), segments);
      if (!t) break;
      off += slot.size();
      ++produced;
      io::Transmit x;
      x.local = t->local;
      x.peer = t->peer;
      x.ecn = t->ecn;
      std::size_t size = t->size;
      std::size_t segment = t->segment_size >= t->size ? 0 : t->segment_size;
      if (const auto route = lb_route(t->local, t->peer)) {
        // To a client behind a load balancer: each segment behind its own header, to the balancer.
        auto enc = lb::encapsulate_segments({t->peer, t->local}, slot, size, segment);
        if (!enc) continue;  // cannot happen: the slot has room for every header
        size = enc->size;
        segment = enc->segment_size;
        x.local = route->local;
        x.peer = route->lb;
        stats_.to_load_balancers += segment == 0 ? 1 : (size + segment - 1) / segment;
      }
      x.data = Bytes(slot.data(), size);
      x.segment_size = segment;
      Socket& s = socket_for(x.local);
      if (segment != 0 && !s.socket.capabilities().gso) {
        // This socket cannot segment: send the batch as separate datagrams.
        for (std::size_t o = 0; o < size; o += segment) {
          io::Transmit one = x;
          one.data = Bytes(slot.data() + o, std::min(segment, size - o));
          one.segment_size = 0;
          s.pending.push_back(one);
        }
      } else {
        s.pending.push_back(x);
      }
    }
    if (produced == 0) return;
  }
}

void Driver::run(const std::function<bool()>& done, const std::function<void()>& after_io) {
  if (options_.handle_signals) (void)loop_->watch_signals({SIGINT, SIGTERM}, [this](int) { stopped_ = true; });
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
    prune_return_paths(loop_->now());
  }
  flush();
}

}  // namespace roam::apps
