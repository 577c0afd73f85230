#include "forwarder.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <sstream>

#include "lb/encap.h"

namespace roam::lbapp {

namespace {

// Batches handled per readable event, so one busy direction cannot starve the other.
constexpr int kBatchesPerWake = 8;

// A backend at the listen address would send every datagram round in a loop.
std::optional<std::string> loops_back(const lb::Router& router, const SocketAddress& listen) {
  for (const auto& b : router.backends()) {
    if (b.address == listen) return "backend " + b.id.hex() + " has the listen address " + listen.to_string();
  }
  return std::nullopt;
}

bool needs_ipv6(const lb::Router& router) {
  for (const auto& b : router.backends()) {
    if (b.address.is_ipv6()) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<Forwarder>, std::string> Forwarder::create(io::EventLoop& loop, lb::Router router,
                                                                  const ForwarderOptions& options) {
  io::SocketOptions listen_options;
  listen_options.recv_buffer_bytes = options.socket_buffer_bytes;
  listen_options.send_buffer_bytes = options.socket_buffer_bytes;
  auto listen = io::UdpSocket::open(options.listen, listen_options);
  if (!listen) return "cannot listen on " + options.listen.to_string() + ": " + listen.error().message();

  io::SocketOptions backend_options = listen_options;
  // The encapsulation header makes datagrams up to 38 octets longer than the client sent them;
  // let the kernel fragment rather than drop them when the backend network's MTU is no larger.
  backend_options.dont_fragment = false;
  SocketAddress source = options.backend_source.value_or(
      options.listen.is_ipv6() || needs_ipv6(router) ? SocketAddress::any_ipv6() : SocketAddress::any_ipv4());
  auto backends = io::UdpSocket::open(source, backend_options);
  if (!backends) return "cannot open the backend socket on " + source.to_string() + ": " + backends.error().message();

  {
    // Not just "no DF from roam" (dont_fragment = false leaves the kernel default, which sets DF):
    // never set DF, so a datagram the header pushed past an MTU on the way is fragmented, not lost.
    const int fd = backends.value().fd();
    const int dont = IP_PMTUDISC_DONT, dont6 = IPV6_PMTUDISC_DONT;
    (void)::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof dont);
    if (backends.value().is_ipv6()) (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &dont6, sizeof dont6);
  }
  auto f = std::unique_ptr<Forwarder>(
      new Forwarder(loop, std::move(router), std::move(listen.value()), std::move(backends.value()), options.mode));
  if (auto loop_error = loops_back(f->router_, f->listen_.local_address())) return *loop_error;
  if (!f->backends_.is_ipv6() && needs_ipv6(f->router_)) {
    return "the backend socket " + f->backends_.local_address().to_string() + " cannot reach IPv6 backends";
  }
  if (auto ok = loop.watch(f->listen_.fd(), [p = f.get()] { p->on_client_datagrams(); }); !ok) {
    return "epoll: " + ok.error().message();
  }
  if (auto ok = loop.watch(f->backends_.fd(), [p = f.get()] { p->on_backend_datagrams(); }); !ok) {
    return "epoll: " + ok.error().message();
  }
  return f;
}

Forwarder::Forwarder(io::EventLoop& loop, lb::Router router, io::UdpSocket listen, io::UdpSocket backends,
                     RoutingMode mode)
    : loop_(loop),
      router_(std::move(router)),
      mode_(mode),
      listen_(std::move(listen)),
      backends_(std::move(backends)),
      listen_wildcard_(listen_.local_address().is_unspecified()) {
  index_backends();
}

Forwarder::~Forwarder() {
  (void)loop_.unwatch(listen_.fd());
  (void)loop_.unwatch(backends_.fd());
}

void Forwarder::index_backends() {
  backend_addresses_.clear();
  for (const auto& b : router_.backends()) backend_addresses_.insert(b.address);
}

Result<void, std::string> Forwarder::replace_router(lb::Router router) {
  if (!backends_.is_ipv6() && needs_ipv6(router)) {
    return std::string("the backend socket " + backends_.local_address().to_string() + " cannot reach IPv6 backends");
  }
  if (auto loop_error = loops_back(router, listen_.local_address())) return *loop_error;
  router_ = std::move(router);
  index_backends();
  return {};
}

void Forwarder::send(io::UdpSocket& socket, std::uint64_t& sent_counter) {
  std::span<const io::Transmit> rest(out_);
  while (!rest.empty()) {
    const io::SendResult r = socket.send(rest);
    sent_counter += r.sent;
    if (r.ok()) break;
    if (r.status == io::SendStatus::kWouldBlock) {
      // UDP is lossy and a forwarder keeps no queue: what does not fit now is dropped, as a
      // congested router would. QUIC's recovery resends.
      stats_.dropped_send += rest.size() - r.sent;
      break;
    }
    ++stats_.dropped_send;  // this datagram was refused (EMSGSIZE, unreachable...); go on
    rest = rest.subspan(r.sent + 1);
  }
  out_.clear();
}

void Forwarder::on_client_datagrams() {
  for (int round = 0; round < kBatchesPerWake; ++round) {
    if (listen_.receive(batch_) == 0) return;
    std::size_t room = 0;
    for (const auto& d : batch_) room += d.data.size() + lb::kEncapMaxHeaderSize;
    if (arena_.size() < room) arena_.resize(room);  // before any Transmit points into it
    std::size_t used = 0;
    for (const auto& d : batch_) {
      ++stats_.from_clients;
      const lb::Route route = mode_ == RoutingMode::kFourTuple ? router_.route_by_tuple(d.data, d.peer, d.local)
                                                               : router_.route(d.data, d.peer, d.local);
      ++stats_.by_reason[static_cast<std::size_t>(route.reason)];
      if (!route.backend) continue;
      if (route.reason != lb::RouteReason::kServerId && route.reason != lb::RouteReason::kFourTuple) {
        ++(route.long_header ? stats_.fallback_long : stats_.fallback_short);
      }
      const lb::EncapHeader header{d.peer, d.local};
      if (lb::encap_header_size(header) + d.data.size() > io::kMaxUdpPayload) {
        ++stats_.dropped_too_big;
        continue;
      }
      MutBytes slot(arena_.data() + used, arena_.size() - used);
      auto n = lb::encapsulate(header, d.data, slot);
      if (!n) {
        ++stats_.dropped_too_big;
        continue;
      }
      io::Transmit t;
      t.peer = router_.backends()[*route.backend].address;
      t.ecn = d.ecn;  // the client's ECN codepoint rides on the outer datagram
      t.data = Bytes(slot.data(), *n);
      out_.push_back(t);
      used += *n;
    }
    send(backends_, stats_.to_backends);
  }
}

void Forwarder::on_backend_datagrams() {
  const SocketAddress& listen = listen_.local_address();
  for (int round = 0; round < kBatchesPerWake; ++round) {
    if (backends_.receive(batch_) == 0) return;
    for (const auto& d : batch_) {
      ++stats_.from_backends;
      if (!backend_addresses_.contains(d.peer)) {
        ++stats_.dropped_unknown_source;
        continue;
      }
      auto dec = lb::decode_encap(d.data);
      if (!dec || dec->header.client.port() == 0 || dec->header.client.is_unspecified()) {
        ++stats_.dropped_bad_encap;
        continue;
      }
      const SocketAddress& from = dec->header.listen;
      if (from.port() != listen.port() || (!listen_wildcard_ && !from.same_ip(listen))) {
        ++stats_.dropped_wrong_listen;
        continue;
      }
      io::Transmit t;
      // On a wildcard listen socket, answer from the address the client wrote to (IP_PKTINFO).
      if (listen_wildcard_ && from.family() == dec->header.client.family()) t.local = from;
      t.peer = dec->header.client;
      t.ecn = d.ecn;
      t.data = dec->payload;
      out_.push_back(t);
    }
    send(listen_, stats_.to_clients);
  }
}

std::string Forwarder::stats_line() const {
  std::ostringstream o;
  const auto& s = stats_;
  o << "from-clients=" << s.from_clients;
  for (std::size_t i = 0; i < lb::kRouteReasonCount; ++i) {
    o << ' ' << lb::to_string(static_cast<lb::RouteReason>(i)) << '=' << s.by_reason[i];
  }
  o << " fallback-long=" << s.fallback_long << " fallback-short=" << s.fallback_short
    << " to-backends=" << s.to_backends << " from-backends=" << s.from_backends << " to-clients=" << s.to_clients
    << " dropped-unknown-source=" << s.dropped_unknown_source << " dropped-bad-encap=" << s.dropped_bad_encap
    << " dropped-wrong-listen=" << s.dropped_wrong_listen << " dropped-too-big=" << s.dropped_too_big
    << " dropped-send=" << s.dropped_send;
  return o.str();
}

}  // namespace roam::lbapp
