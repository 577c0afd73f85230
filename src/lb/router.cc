#include "lb/router.h"

#include <algorithm>

namespace roam::lb {

namespace {

// Long header: first bit set; version (4), DCID length (1), DCID (RFC 8999 5.1).
constexpr std::uint8_t kLongHeaderBit = 0x80;
constexpr std::size_t kLongHeaderDcidOffset = 6;

// A bijective 64-bit mixer (the splitmix64 finaliser): spreads h ^ backend_hash so that each
// backend's score is an independent-looking function of the keyed input hash.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool id_less(const ServerId& a, const ServerId& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::lexicographical_compare(a.data(), a.data() + a.size(), b.data(), b.data() + b.size());
}

// family octet || IP || port, into out at *n.
void append_address(const SocketAddress& a, std::uint8_t* out, std::size_t& n) {
  out[n++] = static_cast<std::uint8_t>(a.family());
  for (std::uint8_t b : a.ip_bytes()) out[n++] = b;
  out[n++] = static_cast<std::uint8_t>(a.port() >> 8);
  out[n++] = static_cast<std::uint8_t>(a.port());
}

}  // namespace

std::string_view to_string(RouteReason r) {
  switch (r) {
    case RouteReason::kServerId:
      return "server-id";
    case RouteReason::kNoConfig:
      return "no-config";
    case RouteReason::kUndecodable:
      return "undecodable";
    case RouteReason::kUnknownServer:
      return "unknown-server";
    case RouteReason::kMalformed:
      return "malformed";
    case RouteReason::kNoBackends:
      return "no-backends";
    case RouteReason::kFourTuple:
      return "four-tuple";
  }
  return "unknown";
}

ConfigResult<Router> Router::create(const Settings& settings) {
  if (auto ok = check(settings); !ok) return ok.error();
  Router r(settings);
  for (const Config& c : settings.configs) {
    auto codec = CidCodec::create(c);
    if (!codec) return codec.error();
    r.codecs_[c.id].emplace(std::move(codec.value()));
  }
  const auto& backends = r.settings_.backends;
  for (std::size_t i = 0; i < backends.size(); ++i) {
    r.by_id_.push_back(i);
    std::uint8_t buf[1 + kMaxServerIdLen];
    buf[0] = 'B';
    std::copy_n(backends[i].id.data(), backends[i].id.size(), buf + 1);
    r.backend_hashes_.push_back(siphash24(settings.fallback_key, Bytes(buf, 1 + backends[i].id.size())));
    if (std::find(r.id_lengths_.begin(), r.id_lengths_.end(), backends[i].id.size()) == r.id_lengths_.end()) {
      r.id_lengths_.push_back(backends[i].id.size());
    }
  }
  std::sort(r.by_id_.begin(), r.by_id_.end(),
            [&](std::size_t a, std::size_t b) { return id_less(backends[a].id, backends[b].id); });
  return r;
}

std::optional<std::size_t> Router::backend_for(const ServerId& server_id) const {
  const auto& backends = settings_.backends;
  for (std::size_t len : id_lengths_) {
    if (len > server_id.size()) continue;
    const ServerId prefix(Bytes(server_id.data(), len));
    auto it = std::lower_bound(by_id_.begin(), by_id_.end(), prefix,
                               [&](std::size_t i, const ServerId& key) { return id_less(backends[i].id, key); });
    if (it != by_id_.end() && backends[*it].id == prefix) return *it;
  }
  return std::nullopt;
}

std::optional<std::size_t> Router::rendezvous(Bytes input) const {
  const auto& backends = settings_.backends;
  if (backends.empty()) return std::nullopt;
  const std::uint64_t h = siphash24(settings_.fallback_key, input);
  std::size_t best = 0;
  std::uint64_t best_score = mix(h ^ backend_hashes_[0]);
  for (std::size_t i = 1; i < backends.size(); ++i) {
    const std::uint64_t score = mix(h ^ backend_hashes_[i]);
    // Ties (all but impossible) go to the smaller ID, never to a list position.
    if (score > best_score || (score == best_score && id_less(backends[i].id, backends[best].id))) {
      best = i;
      best_score = score;
    }
  }
  return best;
}

std::optional<std::size_t> Router::fallback_for_dcid(Bytes dcid) const {
  // RFC 8999 allows DCIDs of up to 255 octets in long headers of unknown versions.
  std::uint8_t buf[1 + 255];
  buf[0] = 'D';
  const std::size_t n = std::min<std::size_t>(dcid.size(), 255);
  std::copy_n(dcid.begin(), n, buf + 1);
  return rendezvous(Bytes(buf, 1 + n));
}

std::optional<std::size_t> Router::fallback_for_tuple(const SocketAddress& client, const SocketAddress& listen) const {
  std::uint8_t buf[1 + 2 * (1 + 16 + 2)];
  std::size_t n = 0;
  buf[n++] = 'T';
  append_address(client, buf, n);
  append_address(listen, buf, n);
  return rendezvous(Bytes(buf, n));
}

Route Router::route(Bytes d, const SocketAddress& client, const SocketAddress& listen) const {
  Route r;
  if (d.empty()) return r;  // kMalformed
  r.long_header = (d[0] & kLongHeaderBit) != 0;
  std::optional<ServerId> sid;
  Bytes dcid;
  if (r.long_header) {
    if (d.size() < kLongHeaderDcidOffset || d.size() < kLongHeaderDcidOffset + d[5]) return r;
    dcid = d.subspan(kLongHeaderDcidOffset, d[5]);
    const CidCodec* c = dcid.empty() ? nullptr : codec(config_id_of(dcid[0]));
    if (c != nullptr) sid = c->server_id(dcid);
    r.reason = dcid.empty() ? RouteReason::kUndecodable
               : c == nullptr ? RouteReason::kNoConfig
               : !sid         ? RouteReason::kUndecodable
                              : RouteReason::kServerId;
  } else {
    // The DCID starts at the second octet and runs into the packet: its length is not on the wire.
    const Bytes rest = d.subspan(1);
    const CidCodec* c = rest.empty() ? nullptr : codec(config_id_of(rest[0]));
    if (c != nullptr) sid = c->server_id_in_prefix(rest);
    r.reason = rest.empty() ? RouteReason::kUndecodable
               : c == nullptr ? RouteReason::kNoConfig
               : !sid         ? RouteReason::kUndecodable
                              : RouteReason::kServerId;
  }
  if (sid) {
    r.backend = backend_for(*sid);
    if (r.backend) return r;
    r.reason = RouteReason::kUnknownServer;
  }
  r.backend = r.long_header ? fallback_for_dcid(dcid) : fallback_for_tuple(client, listen);
  if (!r.backend) r.reason = RouteReason::kNoBackends;
  return r;
}

Route Router::route_by_tuple(Bytes d, const SocketAddress& client, const SocketAddress& listen) const {
  Route r;
  if (d.empty()) return r;  // kMalformed
  r.long_header = (d[0] & kLongHeaderBit) != 0;
  r.backend = fallback_for_tuple(client, listen);
  r.reason = r.backend ? RouteReason::kFourTuple : RouteReason::kNoBackends;
  return r;
}

}  // namespace roam::lb
