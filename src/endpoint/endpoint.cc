#include "endpoint/endpoint.h"

#include <algorithm>
#include <cstring>

#include "wire/packet_header.h"

namespace roam::endpoint {

namespace {
constexpr std::size_t kMinInitialDatagram = 1200;  // RFC 9000 14.1
constexpr std::size_t kMaxReplies = 256;
}  // namespace

Endpoint::Endpoint(const EndpointConfig& config, std::shared_ptr<tls::TlsContext> tls, Random& random)
    : config_(config), tls_(std::move(tls)), random_(random) {}

Endpoint::~Endpoint() = default;

Result<ConnectionHandle> Endpoint::connect(std::string_view server_name, const SocketAddress& local,
                                           const SocketAddress& peer, Instant now) {
  auto c = conn::Connection::connect(config_.connection, tls_, server_name, local, peer, random_, now);
  if (!c) return c.error();
  const ConnectionHandle h = next_handle_++;
  auto& ref = *c.value();
  conns_.emplace(h, std::move(c).value());
  send_order_.push_back(h);
  register_cids(h, ref);
  return h;
}

void Endpoint::register_cids(ConnectionHandle h, conn::Connection& c) {
  std::vector<ConnectionId> added, retired;
  if (!c.take_cid_update(added, retired)) return;
  auto& mine = cids_of_[h];
  for (const auto& cid : added) {
    by_cid_[cid] = h;
    mine.push_back(cid);
  }
  for (const auto& cid : retired) {
    by_cid_.erase(cid);
    mine.erase(std::remove(mine.begin(), mine.end(), cid), mine.end());
  }
}

void Endpoint::on_datagram(const SocketAddress& local, const SocketAddress& peer, std::uint8_t ecn, MutBytes data,
                           Instant now) {
  ++stats_.datagrams_received;
  auto inv = wire::parse_invariant_header(data, config_.connection.local_cid_length);
  if (!inv || inv->dcid.size() > ConnectionId::kMaxLength) {
    ++stats_.datagrams_dropped;
    return;
  }
  const ConnectionId dcid(inv->dcid);
  auto it = by_cid_.find(dcid);
  if (it == by_cid_.end()) {
    handle_unknown(local, peer, data, now);
    return;
  }
  auto& c = *conns_.at(it->second);
  c.on_datagram(conn::Datagram{local, peer, ecn, data}, now);
  register_cids(it->second, c);
}

void Endpoint::handle_unknown(const SocketAddress& local, const SocketAddress& peer, MutBytes data, Instant now) {
  auto inv = wire::parse_invariant_header(data, config_.connection.local_cid_length);
  if (!config_.server || !inv->is_long) {
    // Short header for an unknown CID: a stateless reset would go here (roam issue 3).
    ++stats_.datagrams_dropped;
    return;
  }
  if (inv->version != wire::kVersion1) {
    // RFC 9000 6.1: answer an unknown version with Version Negotiation, but only for datagrams
    // large enough to be a client's first flight (no amplification).
    if (inv->version == 0 || data.size() < kMinInitialDatagram || replies_.size() >= kMaxReplies) {
      ++stats_.datagrams_dropped;
      return;
    }
    Reply r{local, peer, std::vector<std::uint8_t>(128 + inv->dcid.size() + inv->scid.size())};
    const std::uint32_t versions[] = {wire::kVersion1};
    std::uint8_t rnd = 0;
    random_.fill(MutBytes(&rnd, 1));
    const std::size_t n = wire::write_version_negotiation_reply(r.bytes, *inv, versions, rnd);
    if (n == 0) return;
    r.bytes.resize(n);
    replies_.push_back(std::move(r));
    ++stats_.version_negotiations_sent;
    return;
  }
  auto hdr = wire::parse_packet_header(data, config_.connection.local_cid_length);
  if (!hdr || hdr->type != wire::PacketType::kInitial || data.size() < kMinInitialDatagram ||
      hdr->dcid.size() < 8 || conns_.size() >= config_.max_connections) {
    // RFC 9000 7.2: a client's first DCID is at least 8 bytes; 14.1: Initials come in 1200-byte datagrams.
    ++stats_.datagrams_dropped;
    return;
  }
  auto c = conn::Connection::accept(config_.connection, tls_, *hdr, hdr->dcid, std::nullopt, local, peer, random_,
                                    now);
  if (!c) {
    ++stats_.datagrams_dropped;
    return;
  }
  const ConnectionHandle h = next_handle_++;
  auto& ref = *c.value();
  conns_.emplace(h, std::move(c).value());
  send_order_.push_back(h);
  // The client's chosen DCID routes here too until it switches to ours.
  by_cid_[hdr->dcid] = h;
  cids_of_[h].push_back(hdr->dcid);
  register_cids(h, ref);
  accepted_.push_back(h);
  ++stats_.connections_accepted;
  ref.on_datagram(conn::Datagram{local, peer, 0, data}, now);
  register_cids(h, ref);
}

std::optional<conn::Transmit> Endpoint::poll_transmit(Instant now, MutBytes buf, std::size_t max_datagrams) {
  if (!replies_.empty()) {
    Reply r = std::move(replies_.front());
    replies_.pop_front();
    if (r.bytes.size() > buf.size()) return std::nullopt;
    std::memcpy(buf.data(), r.bytes.data(), r.bytes.size());
    conn::Transmit t;
    t.local = r.local;
    t.peer = r.peer;
    t.size = t.segment_size = r.bytes.size();
    return t;
  }
  const std::size_t n = send_order_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t idx = (send_cursor_ + i) % n;
    auto it = conns_.find(send_order_[idx]);
    if (it == conns_.end()) continue;
    if (auto t = it->second->poll_transmit(now, buf, max_datagrams)) {
      send_cursor_ = (idx + 1) % n;
      register_cids(it->first, *it->second);
      return t;
    }
  }
  return std::nullopt;
}

std::optional<Instant> Endpoint::next_timeout() const {
  std::optional<Instant> t;
  for (const auto& [h, c] : conns_) {
    auto x = c->next_timeout();
    if (x && (!t || *x < *t)) t = x;
  }
  return t;
}

void Endpoint::on_timeout(Instant now) {
  for (auto& [h, c] : conns_) {
    if (auto x = c->next_timeout(); x && *x <= now) c->on_timeout(now);
  }
}

std::optional<ConnectionHandle> Endpoint::accept() {
  if (accepted_.empty()) return std::nullopt;
  auto h = accepted_.front();
  accepted_.pop_front();
  return h;
}

conn::Connection* Endpoint::connection(ConnectionHandle h) {
  auto it = conns_.find(h);
  return it == conns_.end() ? nullptr : it->second.get();
}

std::size_t Endpoint::reap() {
  std::size_t removed = 0;
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second->is_closed()) {
      for (const auto& cid : cids_of_[it->first]) by_cid_.erase(cid);
      cids_of_.erase(it->first);
      send_order_.erase(std::remove(send_order_.begin(), send_order_.end(), it->first), send_order_.end());
      it = conns_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  if (removed) send_cursor_ = 0;
  return removed;
}

}  // namespace roam::endpoint
