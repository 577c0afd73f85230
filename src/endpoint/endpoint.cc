#include "endpoint/endpoint.h"

#include <algorithm>
#include <cstring>

#include "crypto/tokens.h"
#include "wire/packet_header.h"

namespace roam::endpoint {

namespace {
constexpr std::size_t kMinInitialDatagram = 1200;  // RFC 9000 14.1
constexpr std::size_t kMaxReplies = 256;
}  // namespace

Endpoint::Endpoint(const EndpointConfig& config, std::shared_ptr<tls::TlsContext> tls, Random& random)
    : config_(config), tls_(std::move(tls)), random_(random) {
  // Every connection of this endpoint shares the CID generator and the reset key, so the endpoint
  // can parse short headers and answer for connections it has forgotten.
  auto& cc = config_.connection;
  if (!cc.cid_generator) cc.cid_generator = std::make_shared<cid::RandomCidGenerator>(cc.local_cid_length);
  cc.local_cid_length = cc.cid_generator->length();
  if (cc.reset_key.empty()) {
    cc.reset_key.resize(32);
    random_.fill(cc.reset_key);
  }
  reset_tokens_ = config_.reset_limits.burst;
  if (config_.server) {
    std::uint8_t key[crypto::TokenCipher::kKeySize];
    random_.fill(key);
    if (auto tc = crypto::TokenCipher::create(key, random_)) token_cipher_.emplace(std::move(tc).value());
    if (config_.require_retry) {
      if (auto ri = crypto::RetryIntegrity::create()) retry_integrity_.emplace(std::move(ri).value());
    }
    if (config_.issue_new_tokens && token_cipher_) {
      cc.new_token = [this](const SocketAddress& peer) { return mint_new_token(peer); };
    }
  }
}

Endpoint::~Endpoint() = default;

Result<ConnectionHandle> Endpoint::connect(std::string_view server_name, const SocketAddress& local,
                                           const SocketAddress& peer, Instant now,
                                           const conn::ResumptionState* resume) {
  auto c = conn::Connection::connect(config_.connection, tls_, server_name, local, peer, random_, now, resume);
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
  now_ = now;
  ++stats_.datagrams_received;
  auto inv = wire::parse_invariant_header(data, config_.connection.local_cid_length);
  if (!inv) {
    ++stats_.datagrams_dropped;
    return;
  }
  // CIDs longer than v1 allows can only belong to another version: Version Negotiation material.
  auto it = inv->dcid.size() > ConnectionId::kMaxLength ? by_cid_.end() : by_cid_.find(ConnectionId(inv->dcid));
  if (it == by_cid_.end()) {
    handle_unknown(*inv, local, peer, data, now);
    return;
  }
  auto& c = *conns_.at(it->second);
  c.on_datagram(conn::Datagram{local, peer, ecn, data}, now);
  register_cids(it->second, c);
}

void Endpoint::handle_unknown(const wire::InvariantHeader& inv, const SocketAddress& local, const SocketAddress& peer,
                              MutBytes data, Instant now) {
  if (!inv.is_long) {
    // Possibly a stateless reset for one of our connections: its DCID is random, so it can only
    // be matched by its trailing token (RFC 9000 10.3.1). Only connections to that peer qualify.
    for (auto& [h, c] : conns_) {
      if (c->peer_address() == peer && c->is_stateless_reset(data)) {
        c->on_datagram(conn::Datagram{local, peer, 0, data}, now);
        return;
      }
    }
    ++stats_.datagrams_dropped;
    maybe_send_stateless_reset(local, peer, ConnectionId(inv.dcid), data.size(), now);
    return;
  }
  if (!config_.server) {
    ++stats_.datagrams_dropped;
    return;
  }
  if (inv.version != wire::kVersion1) {
    // RFC 9000 6.1: answer an unknown version with Version Negotiation, but only for datagrams
    // large enough to be a client's first flight (no amplification).
    if (inv.version == 0 || data.size() < kMinInitialDatagram || replies_.size() >= kMaxReplies) {
      ++stats_.datagrams_dropped;
      return;
    }
    Reply r{local, peer, std::vector<std::uint8_t>(128 + inv.dcid.size() + inv.scid.size())};
    const std::uint32_t versions[] = {wire::kVersion1};
    std::uint8_t rnd = 0;
    random_.fill(MutBytes(&rnd, 1));
    const std::size_t n = wire::write_version_negotiation_reply(r.bytes, inv, versions, rnd);
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
  ConnectionId original_dcid = hdr->dcid;
  std::optional<ConnectionId> retry_scid;
  // A NEW_TOKEN token from an earlier connection proves the address (RFC 9000 8.1.3).
  const bool validated = !hdr->token.empty() && token_cipher_ && check_new_token(hdr->token, peer, now);
  if (retry_integrity_ && !validated) {
    auto odcid = hdr->token.empty() ? std::nullopt : check_retry_token(hdr->token, peer, now);
    if (!odcid) {
      if (!hdr->token.empty()) ++stats_.invalid_tokens;
      send_retry(local, peer, *hdr, now);
      return;
    }
    original_dcid = *odcid;
    retry_scid = hdr->dcid;
  }
  auto c = conn::Connection::accept(config_.connection, tls_, *hdr, original_dcid, retry_scid, local, peer, random_,
                                    now, validated);
  if (validated) ++stats_.new_tokens_accepted;
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

namespace {
// A Retry token: the time it was issued and the client's original DCID, sealed under a key only
// this endpoint knows, with the client's address as associated data (so it is only good from there).
std::string token_aad(const SocketAddress& peer) { return "roam-retry " + peer.to_string(); }
}  // namespace

void Endpoint::send_retry(const SocketAddress& local, const SocketAddress& peer, const wire::PacketHeader& hdr,
                          Instant now) {
  if (replies_.size() >= kMaxReplies) return;
  std::vector<std::uint8_t> plain(9 + hdr.dcid.size());
  const auto t = static_cast<std::uint64_t>(now.time_since_epoch().count());
  for (int i = 0; i < 8; ++i) plain[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(t >> (56 - 8 * i));
  plain[8] = static_cast<std::uint8_t>(hdr.dcid.size());
  std::copy(hdr.dcid.bytes().begin(), hdr.dcid.bytes().end(), plain.begin() + 9);
  const std::string aad = token_aad(peer);
  auto token = token_cipher_->seal(plain, Bytes(reinterpret_cast<const std::uint8_t*>(aad.data()), aad.size()));
  if (!token) return;
  const ConnectionId scid = config_.connection.cid_generator->generate(random_);
  Reply r{local, peer, std::vector<std::uint8_t>(64 + hdr.scid.size() + scid.size() + token->size())};
  std::uint8_t unused = 0;
  random_.fill(MutBytes(&unused, 1));
  const std::size_t n = wire::write_retry_without_tag(r.bytes, wire::kVersion1, hdr.scid, scid, *token, unused);
  if (n == 0) return;
  auto tag = retry_integrity_->compute(hdr.dcid, Bytes(r.bytes.data(), n));
  if (!tag) return;
  std::copy(tag->begin(), tag->end(), r.bytes.begin() + static_cast<std::ptrdiff_t>(n));
  r.bytes.resize(n + tag->size());
  replies_.push_back(std::move(r));
  ++stats_.retries_sent;
}

std::optional<ConnectionId> Endpoint::check_retry_token(Bytes token, const SocketAddress& peer, Instant now) {
  const std::string aad = token_aad(peer);
  auto plain = token_cipher_->open(token, Bytes(reinterpret_cast<const std::uint8_t*>(aad.data()), aad.size()));
  if (!plain || plain->size() < 9 || plain->size() != 9u + (*plain)[8] || (*plain)[8] > ConnectionId::kMaxLength) {
    return std::nullopt;
  }
  std::uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = t << 8 | (*plain)[static_cast<std::size_t>(i)];
  const Instant issued{Duration(static_cast<std::int64_t>(t))};
  if (issued > now || now - issued > config_.retry_token_lifetime) return std::nullopt;
  return ConnectionId(Bytes(plain->data() + 9, (*plain)[8]));
}

namespace {
// A NEW_TOKEN token: a type byte and the time it was issued, sealed with the client's IP (not its
// port, which changes between connections) as associated data.
constexpr std::uint8_t kNewTokenType = 0x4e;
std::string new_token_aad(const SocketAddress& peer) { return "roam-new-token " + peer.ip_string(); }
}  // namespace

std::vector<std::uint8_t> Endpoint::mint_new_token(const SocketAddress& peer) {
  std::vector<std::uint8_t> plain(9);
  plain[0] = kNewTokenType;
  const auto t = static_cast<std::uint64_t>(now_.time_since_epoch().count());
  for (int i = 0; i < 8; ++i) plain[static_cast<std::size_t>(1 + i)] = static_cast<std::uint8_t>(t >> (56 - 8 * i));
  const std::string aad = new_token_aad(peer);
  auto token = token_cipher_->seal(plain, Bytes(reinterpret_cast<const std::uint8_t*>(aad.data()), aad.size()));
  if (!token) return {};
  ++stats_.new_tokens_issued;
  return std::move(token).value();
}

bool Endpoint::check_new_token(Bytes token, const SocketAddress& peer, Instant now) {
  const std::string aad = new_token_aad(peer);
  auto plain = token_cipher_->open(token, Bytes(reinterpret_cast<const std::uint8_t*>(aad.data()), aad.size()));
  if (!plain || plain->size() != 9 || (*plain)[0] != kNewTokenType) return false;
  std::uint64_t t = 0;
  for (int i = 1; i < 9; ++i) t = t << 8 | (*plain)[static_cast<std::size_t>(i)];
  const Instant issued{Duration(static_cast<std::int64_t>(t))};
  return issued <= now && now - issued <= config_.new_token_lifetime;
}

void Endpoint::maybe_send_stateless_reset(const SocketAddress& local, const SocketAddress& peer,
                                          const ConnectionId& dcid, std::size_t received, Instant now) {
  // RFC 9000 10.3: at least 21 bytes (first byte, >= 38 unpredictable bits, 16-byte token) and
  // always shorter than the packet that triggered it, so two endpoints can never loop.
  constexpr std::size_t kMinReset = 21;
  if (received <= kMinReset || replies_.size() >= kMaxReplies) return;
  const auto& lim = config_.reset_limits;
  if (reset_refill_) {
    reset_tokens_ = std::min(lim.burst, reset_tokens_ + lim.per_second * std::chrono::duration<double>(now - *reset_refill_).count());
  }
  reset_refill_ = now;
  if (reset_tokens_ < 1) return;
  reset_tokens_ -= 1;
  // Look like a short-header packet of plausible size: up to 43 bytes, never the full size.
  const std::size_t size = std::max(kMinReset, std::min<std::size_t>(received - 1, 43));
  Reply r{local, peer, std::vector<std::uint8_t>(size)};
  random_.fill(MutBytes(r.bytes.data(), size - 16));
  r.bytes[0] = static_cast<std::uint8_t>(0x40 | (r.bytes[0] & 0x3f));
  const auto token = crypto::stateless_reset_token(config_.connection.reset_key, dcid);
  std::copy(token.begin(), token.end(), r.bytes.end() - 16);
  replies_.push_back(std::move(r));
  ++stats_.stateless_resets_sent;
}

std::optional<conn::Transmit> Endpoint::poll_transmit(Instant now, MutBytes buf, std::size_t max_datagrams) {
  now_ = now;
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
  now_ = now;
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
