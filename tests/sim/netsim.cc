#include "netsim.h"

#include <algorithm>
#include <cstdio>

namespace roam::sim {

namespace {
constexpr std::size_t kMaxBatch = 16;
constexpr std::size_t kBufSize = kMaxBatch * 1500;
constexpr std::size_t kMaxTransmitsPerFlush = 100'000;
constexpr std::uint64_t kMaxStepsWithoutTime = 1'000'000;
constexpr std::uint64_t kLinkSaltBase = 0x4c494e4b00000000ull;  // "LINK"

SocketAddress ip_of(const SocketAddress& a) { return a.with_port(0); }

std::uint64_t mix(std::uint64_t seed, std::uint64_t salt) {
  // splitmix64 finaliser over seed and salt: nearby salts give unrelated streams.
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (salt + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

std::string format_duration(Duration d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6fs", static_cast<double>(d.count()) / 1e9);
  return buf;
}

bool Node::owns(const SocketAddress& a) const {
  return std::find(addresses_.begin(), addresses_.end(), a) != addresses_.end();
}

Network::Network(std::uint64_t seed, Instant start) : seed_(seed), now_(start), tx_buf_(kBufSize) {}

Network::~Network() = default;

Random& Network::make_random(std::uint64_t salt) {
  randoms_.push_back(std::make_unique<SeededRandom>(mix(seed_, salt)));
  return *randoms_.back();
}

Node& Network::add_node(std::string name, std::unique_ptr<endpoint::Endpoint> ep,
                        std::vector<SocketAddress> addresses) {
  nodes_.push_back(std::make_unique<Node>(std::move(name), std::move(ep), std::move(addresses)));
  return *nodes_.back();
}

void Network::add_address(Node& node, const SocketAddress& a) {
  if (!node.owns(a)) node.addresses_.push_back(a);
}

void Network::remove_address(Node& node, const SocketAddress& a) {
  auto& v = node.addresses_;
  v.erase(std::remove(v.begin(), v.end(), a), v.end());
}

void Network::connect(const SocketAddress& a, const SocketAddress& b, const LinkConfig& a_to_b,
                      const LinkConfig& b_to_a) {
  const std::uint64_t n = links_.size();
  links_[{ip_of(a), ip_of(b)}] = std::make_unique<Link>(a_to_b, make_random(kLinkSaltBase + 2 * n));
  links_[{ip_of(b), ip_of(a)}] = std::make_unique<Link>(b_to_a, make_random(kLinkSaltBase + 2 * n + 1));
}

Link* Network::link(const SocketAddress& from, const SocketAddress& to) {
  auto it = links_.find({ip_of(from), ip_of(to)});
  return it == links_.end() ? nullptr : it->second.get();
}

std::uint64_t Network::link_drops() const {
  std::uint64_t n = 0;
  for (const auto& [k, l] : links_) n += l->stats().dropped();
  return n;
}

Nat& Network::add_nat(const SocketAddress& inside, const SocketAddress& outside) {
  nats_.push_back(std::make_unique<Nat>(inside, outside));
  return *nats_.back();
}

void Network::push(Event e) {
  queue_.push_back(std::move(e));
  std::push_heap(queue_.begin(), queue_.end(), Later{});
}

Network::Event Network::pop() {
  std::pop_heap(queue_.begin(), queue_.end(), Later{});
  Event e = std::move(queue_.back());
  queue_.pop_back();
  return e;
}

void Network::at(Instant t, std::function<void()> action) {
  push(Event{std::max(t, now_), next_seq_++, std::move(action)});
}

void Network::send(Node& node, const SocketAddress& local, const SocketAddress& peer, Bytes datagram) {
  ++stats_.datagrams_sent;
  ++node.stats_.datagrams_sent;
  node.stats_.bytes_sent += datagram.size();
  const char* drop = nullptr;
  SocketAddress src = local;
  Link* l = nullptr;
  std::optional<Instant> arrival;
  if (!node.owns(local)) {
    ++stats_.dropped_no_local;
    drop = "no-local";
  } else {
    for (const auto& nat : nats_) {
      if (auto out = nat->translate_out(local)) {
        src = *out;
        break;
      }
    }
    l = link(src, peer);
    if (!l) {
      ++stats_.dropped_no_route;
      drop = "no-route";
    } else if (arrival = l->transmit(now_, datagram.size()); !arrival) {
      drop = "link";
    }
  }
  if (trace_) {
    *trace_ << format_duration(now_.time_since_epoch()) << ' ' << node.name() << " send " << src.to_string() << " -> "
            << peer.to_string() << ' ' << datagram.size() << 'B';
    if (drop) *trace_ << " DROP " << drop;
    *trace_ << '\n';
  }
  if (!taps_.empty()) {
    WireEvent e;
    e.kind = WireEvent::Kind::kSent;
    e.time = now_;
    e.src = src;
    e.dst = peer;
    e.bytes = datagram;
    e.node = &node;
    e.drop = drop;
    tap(e);
  }
  if (drop) return;
  push(Event{*arrival, next_seq_++, Delivery{src, peer, std::vector<std::uint8_t>(datagram.begin(), datagram.end())}});
}

void Network::inject(const SocketAddress& src, const SocketAddress& dst, Bytes datagram, Duration delay) {
  ++stats_.datagrams_injected;
  if (trace_) {
    *trace_ << format_duration(now_.time_since_epoch()) << " inject " << src.to_string() << " -> " << dst.to_string()
            << ' ' << datagram.size() << "B\n";
  }
  if (!taps_.empty()) {
    WireEvent e;
    e.kind = WireEvent::Kind::kSent;
    e.time = now_;
    e.src = src;
    e.dst = dst;
    e.bytes = datagram;
    tap(e);
  }
  push(Event{now_ + delay, next_seq_++, Delivery{src, dst, std::vector<std::uint8_t>(datagram.begin(), datagram.end())}});
}

void Network::tap(const WireEvent& e) {
  for (auto& t : taps_) t(e);
}

void Network::flush(Node& node) {
  for (std::size_t i = 0; i < kMaxTransmitsPerFlush; ++i) {
    auto t = node.endpoint().poll_transmit(now_, tx_buf_, kMaxBatch);
    if (!t) return;
    const std::size_t seg = t->segment_size ? t->segment_size : t->size;
    for (std::size_t off = 0; off < t->size; off += seg) {
      const std::size_t n = std::min(seg, t->size - off);
      send(node, t->local, t->peer, Bytes(tx_buf_.data() + off, n));
    }
  }
}

void Network::deliver(Delivery& d) {
  SocketAddress dst = d.dst;
  for (const auto& nat : nats_) {
    if (auto in = nat->translate_in(d.dst)) {
      dst = *in;
      break;
    }
  }
  Node* target = nullptr;
  for (const auto& n : nodes_) {
    if (n->owns(dst)) {
      target = n.get();
      break;
    }
  }
  if (trace_) {
    *trace_ << format_duration(now_.time_since_epoch()) << ' ' << (target ? target->name() : std::string("-"))
            << " recv " << d.src.to_string() << " -> " << dst.to_string() << ' ' << d.bytes.size() << 'B'
            << (target ? "" : " DROP no-node") << '\n';
  }
  if (!target) {
    ++stats_.dropped_no_node;
    for (const auto& nat : nats_) {
      if (nat->outside().same_ip(d.dst)) nat->count_unmapped();
    }
    return;
  }
  ++stats_.datagrams_delivered;
  ++target->stats_.datagrams_received;
  target->stats_.bytes_received += d.bytes.size();
  if (!taps_.empty()) {
    WireEvent e;
    e.kind = WireEvent::Kind::kDelivered;
    e.time = now_;
    e.src = d.src;
    e.dst = dst;
    e.bytes = Bytes(d.bytes.data(), d.bytes.size());
    e.node = target;
    tap(e);
  }
  target->endpoint().on_datagram(dst, d.src, 0, MutBytes(d.bytes.data(), d.bytes.size()), now_);
}

std::optional<Instant> Network::next_event_time() const {
  std::optional<Instant> t;
  if (!queue_.empty()) t = queue_.front().time;
  for (const auto& n : nodes_) {
    if (auto x = n->endpoint_->next_timeout(); x && (!t || *x < *t)) t = x;
  }
  return t;
}

bool Network::step(Instant deadline) {
  for (auto& n : nodes_) flush(*n);
  const auto next = next_event_time();
  if (!next || *next > deadline) return false;
  if (*next > now_) {
    now_ = *next;
    same_time_steps_ = 0;
  } else if (++same_time_steps_ > kMaxStepsWithoutTime) {
    stalled_ = true;
    return false;
  }
  ++stats_.steps;
  while (!queue_.empty() && queue_.front().time <= now_) {
    Event e = pop();
    if (auto* d = std::get_if<Delivery>(&e.what)) {
      deliver(*d);
    } else {
      std::get<std::function<void()>>(e.what)();
    }
  }
  for (auto& n : nodes_) {
    if (auto t = n->endpoint_->next_timeout(); t && *t <= now_) n->endpoint_->on_timeout(now_);
  }
  run_hooks();
  return true;
}

void Network::run_hooks() {
  for (auto& h : hooks_) h();
}

bool Network::run_until(const std::function<bool()>& pred, Duration timeout, std::uint64_t max_steps) {
  const Instant deadline = now_ + timeout;
  run_hooks();  // work queued by the caller since the last step
  for (std::uint64_t i = 0; i < max_steps; ++i) {
    if (pred()) return true;
    if (!step(deadline)) {
      // Nothing left to do before the deadline (or stalled): time runs out quietly.
      if (!stalled_) now_ = std::max(now_, deadline);
      return pred();
    }
  }
  return pred();
}

void Network::run_for(Duration d) {
  const Instant deadline = now_ + d;
  run_hooks();
  for (std::uint64_t i = 0; i < 20'000'000 && step(deadline); ++i) {
  }
  if (!stalled_) now_ = std::max(now_, deadline);
}

}  // namespace roam::sim
