// Routing decisions: routable CIDs go to the backend their server ID names, unroutable long
// headers by a keyed rendezvous hash of the DCID (stable across instances and backend order),
// unroutable short headers by the 4-tuple, unknown server IDs fall back, malformed input drops.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "common/random.h"
#include "lb/router.h"
#include "lb/siphash.h"

namespace roam::lb {
namespace {

std::vector<std::uint8_t> hex(std::string_view h) {
  std::basic_string<std::uint8_t> out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return {out.begin(), out.end()};
}

// Config 0: encrypted four-pass (the Appendix B key); config 1: plaintext (a rotation in progress).
constexpr const char* kSettings =
    "config id=0 server-id-len=3 nonce-len=5 key=8f95f09245765f80256934e50c66207f\n"
    "config id=1 server-id-len=3 nonce-len=4\n"
    "backend 0a01=192.0.2.1:4433\n"
    "backend 0b02=192.0.2.2:4433\n"
    "backend 0c03=[2001:db8::3]:4433\n"
    "fallback-key 0f0e0d0c0b0a09080706050403020100\n";

Router make_router(const std::string& text) {
  auto s = parse_settings(text);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  auto r = Router::create(s.ok() ? *s : Settings{});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return std::move(r.value());
}

const SocketAddress kClient = *SocketAddress::parse("198.51.100.20:40000");
const SocketAddress kListen = *SocketAddress::parse("203.0.113.1:443");

ConnectionId cid_for(const Router& r, std::uint8_t config, std::string_view sid, std::string_view nonce) {
  auto s = hex(sid), n = hex(nonce);
  auto cid = r.codec(config)->encode(s, n);
  EXPECT_TRUE(cid.ok());
  return *cid;
}

std::vector<std::uint8_t> short_header(const ConnectionId& dcid) {
  std::vector<std::uint8_t> p(1 + dcid.size() + 24);
  p[0] = 0x43;
  std::copy(dcid.data(), dcid.data() + dcid.size(), p.begin() + 1);
  for (std::size_t i = 0; i < 24; ++i) p[1 + dcid.size() + i] = static_cast<std::uint8_t>(0xa0 + i);
  return p;
}

// A 1200-octet long header packet: version, DCID, an 8-octet SCID, zeros.
std::vector<std::uint8_t> long_header(Bytes dcid, std::uint32_t version = 1) {
  std::vector<std::uint8_t> p(1200, 0);
  p[0] = 0xc3;
  for (int i = 0; i < 4; ++i) p[1 + i] = static_cast<std::uint8_t>(version >> (24 - 8 * i));
  p[5] = static_cast<std::uint8_t>(dcid.size());
  std::copy(dcid.begin(), dcid.end(), p.begin() + 6);
  p[6 + dcid.size()] = 8;
  for (std::size_t i = 0; i < 8; ++i) p[7 + dcid.size() + i] = static_cast<std::uint8_t>(0x50 + i);
  return p;
}

// Routes packet as if from client port 10000 + i.
Route r_route(const Router& r, const std::vector<std::uint8_t>& packet, int i) {
  return r.route(packet, kClient.with_port(static_cast<std::uint16_t>(10000 + i)), kListen);
}

TEST(SipHash, ReferenceVectors) {
  // The SipHash paper, appendix A: key 00..0f, message 00..0e.
  SipKey key;
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  std::uint8_t msg[15];
  for (std::size_t i = 0; i < sizeof msg; ++i) msg[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(siphash24(key, msg), 0xa129ca6149be45e5ULL);
  // The reference implementation's vectors.h, first entry (empty message).
  EXPECT_EQ(siphash24(key, Bytes()), 0x726fdb47dd0e0e31ULL);
}

TEST(Router, RoutableCidsGoToTheirServerWhateverTheAddress) {
  const Router r = make_router(kSettings);
  struct Case {
    std::uint8_t config;
    const char* sid;
    std::size_t backend;
  };
  // Server IDs are host (2 octets) + worker (1 octet): the router matches the host prefix.
  const Case cases[] = {{0, "0a0100", 0}, {0, "0b02ff", 1}, {0, "0c0307", 2}, {1, "0a0109", 0}, {1, "0c0300", 2}};
  SeededRandom rng(1);
  for (const Case& c : cases) {
    for (int i = 0; i < 50; ++i) {
      std::uint8_t nonce[5];
      rng.fill(nonce);
      const ConnectionId cid =
          cid_for(r, c.config, c.sid, to_hex(Bytes(nonce, r.codec(c.config)->config().nonce_len)));
      const auto client = SocketAddress::from_ipv4({10, 0, 0, static_cast<std::uint8_t>(i)},
                                                   static_cast<std::uint16_t>(5000 + i));
      const Route s = r.route(short_header(cid), client, kListen);
      EXPECT_EQ(s.reason, RouteReason::kServerId) << cid.hex();
      EXPECT_FALSE(s.long_header);
      EXPECT_EQ(s.backend, std::optional<std::size_t>(c.backend)) << cid.hex();
      // The same CID in a long header (e.g. the client's Handshake packets).
      const Route l = r.route(long_header(cid.bytes()), client, kListen);
      EXPECT_EQ(l.reason, RouteReason::kServerId);
      EXPECT_TRUE(l.long_header);
      EXPECT_EQ(l.backend, std::optional<std::size_t>(c.backend));
    }
  }
}

TEST(Router, UnroutableInitialsHashTheDcidStablyAcrossInstances) {
  const Router a = make_router(kSettings);
  // A second instance with the backends listed in another order routes identically.
  const Router b = make_router(
      "config id=1 server-id-len=3 nonce-len=4\n"
      "backend 0c03=[2001:db8::3]:4433\n"
      "backend 0a01=192.0.2.1:4433\n"
      "config id=0 server-id-len=3 nonce-len=5 key=8f95f09245765f80256934e50c66207f\n"
      "backend 0b02=192.0.2.2:4433\n"
      "fallback-key 0f0e0d0c0b0a09080706050403020100\n");
  SeededRandom rng(2);
  std::map<std::string, int> per_backend;
  for (int i = 0; i < 3000; ++i) {
    std::uint8_t dcid[8];
    rng.fill(dcid);
    dcid[0] |= 0xe0;  // config rotation 0b111: never routable
    const auto packet = long_header(dcid);
    const Route ra = r_route(a, packet, i);
    const Route rb = r_route(b, packet, i + 7);  // another client port: the DCID decides
    ASSERT_TRUE(ra.backend.has_value());
    ASSERT_TRUE(rb.backend.has_value());
    EXPECT_EQ(ra.reason, RouteReason::kNoConfig);
    EXPECT_EQ(a.backends()[*ra.backend].address, b.backends()[*rb.backend].address);
    EXPECT_EQ(a.fallback_for_dcid(dcid), ra.backend);
    ++per_backend[a.backends()[*ra.backend].id.hex()];
  }
  // Spread over all three (each ~1000; a broken hash would pile onto one).
  ASSERT_EQ(per_backend.size(), 3u);
  for (const auto& [id, n] : per_backend) EXPECT_GT(n, 800) << id;
}

TEST(Router, UnknownServerIdsFallBack) {
  const Router r = make_router(kSettings);
  // Decodable under config 0, but host 0d04 has no backend.
  const ConnectionId cid = cid_for(r, 0, "0d0401", "0102030405");
  const Route l = r.route(long_header(cid.bytes()), kClient, kListen);
  EXPECT_EQ(l.reason, RouteReason::kUnknownServer);
  EXPECT_EQ(l.backend, r.fallback_for_dcid(cid.bytes()));
  const Route s = r.route(short_header(cid), kClient, kListen);
  EXPECT_EQ(s.reason, RouteReason::kUnknownServer);
  EXPECT_EQ(s.backend, r.fallback_for_tuple(kClient, kListen));
  ASSERT_TRUE(s.backend.has_value());
}

TEST(Router, UnroutableShortHeadersHashTheFourTuple) {
  const Router r = make_router(kSettings);
  SeededRandom rng(3);
  std::map<std::size_t, int> spread;
  for (int i = 0; i < 600; ++i) {
    std::vector<std::uint8_t> packet(40);
    rng.fill(packet);
    packet[0] = 0x40;
    packet[1] = static_cast<std::uint8_t>(0xe0 | (packet[1] & 0x1f));  // 0b111
    const auto client = SocketAddress::from_ipv4({10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)}, 4000);
    const Route a = r.route(packet, client, kListen);
    EXPECT_EQ(a.reason, RouteReason::kNoConfig);
    ASSERT_TRUE(a.backend.has_value());
    // Another DCID from the same 4-tuple goes to the same place; the DCID does not matter.
    packet[5] ^= 0xff;
    EXPECT_EQ(r.route(packet, client, kListen).backend, a.backend);
    EXPECT_EQ(r.fallback_for_tuple(client, kListen), a.backend);
    ++spread[*a.backend];
  }
  EXPECT_EQ(spread.size(), 3u);
}

TEST(Router, UndecodableCids) {
  const Router r = make_router(kSettings);
  const ConnectionId good = cid_for(r, 0, "0a0100", "0102030405");
  // Long header: a DCID one octet short of the config's 9.
  const Route cut = r.route(long_header(good.bytes().first(8)), kClient, kListen);
  EXPECT_EQ(cut.reason, RouteReason::kUndecodable);
  EXPECT_EQ(cut.backend, r.fallback_for_dcid(good.bytes().first(8)));
  // Long header: the DCID is longer than its self-described length.
  std::vector<std::uint8_t> longer(good.data(), good.data() + good.size());
  longer.push_back(0);
  EXPECT_EQ(r.route(long_header(longer), kClient, kListen).reason, RouteReason::kUndecodable);
  // Long header with an empty DCID.
  EXPECT_EQ(r.route(long_header(Bytes()), kClient, kListen).reason, RouteReason::kUndecodable);
  // Short header that ends inside the self-described CID.
  auto s = short_header(good);
  s.resize(1 + good.size() - 1);
  EXPECT_EQ(r.route(s, kClient, kListen).reason, RouteReason::kUndecodable);
  // A lone short-header octet.
  const std::uint8_t one[] = {0x40};
  const Route lone = r.route(one, kClient, kListen);
  EXPECT_EQ(lone.reason, RouteReason::kUndecodable);
  EXPECT_EQ(lone.backend, r.fallback_for_tuple(kClient, kListen));
}

TEST(Router, MalformedDatagramsAreDropped) {
  const Router r = make_router(kSettings);
  EXPECT_EQ(r.route(Bytes(), kClient, kListen).backend, std::nullopt);
  EXPECT_EQ(r.route(Bytes(), kClient, kListen).reason, RouteReason::kMalformed);
  // Long headers cut before or inside the DCID.
  const auto full = long_header(hex("0102030405060708"));
  for (std::size_t n = 1; n < 6 + 8; ++n) {
    std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const Route x = r.route(cut, kClient, kListen);
    EXPECT_EQ(x.reason, RouteReason::kMalformed) << n;
    EXPECT_EQ(x.backend, std::nullopt) << n;
  }
}

TEST(Router, LongDcidsOfUnknownVersionsFallBack) {
  // RFC 8999: other versions may use DCIDs up to 255 octets; the router hashes them.
  const Router r = make_router(kSettings);
  std::vector<std::uint8_t> dcid(255, 0x5a);
  dcid[0] = 0x1a;  // config 0, self-described length 26: not this DCID's
  const Route x = r.route(long_header(dcid, 0x1a2a3a4a), kClient, kListen);
  EXPECT_EQ(x.reason, RouteReason::kUndecodable);
  EXPECT_EQ(x.backend, r.fallback_for_dcid(dcid));
}

TEST(Router, NoBackendsDrops) {
  const Router r = make_router("config id=0 server-id-len=3 nonce-len=4\n");
  const std::uint8_t dcid[] = {1, 2, 3, 4, 5, 6, 7, 8};
  const Route x = r.route(long_header(dcid), kClient, kListen);
  EXPECT_EQ(x.reason, RouteReason::kNoBackends);
  EXPECT_EQ(x.backend, std::nullopt);
}

TEST(Router, RemovingABackendMovesOnlyItsFlows) {
  const Router three = make_router(kSettings);
  const Router two = make_router(
      "config id=0 server-id-len=3 nonce-len=5 key=8f95f09245765f80256934e50c66207f\n"
      "backend 0a01=192.0.2.1:4433\n"
      "backend 0c03=[2001:db8::3]:4433\n"
      "fallback-key 0f0e0d0c0b0a09080706050403020100\n");
  SeededRandom rng(4);
  int moved = 0;
  for (int i = 0; i < 2000; ++i) {
    std::uint8_t dcid[8];
    rng.fill(dcid);
    const auto before = three.backends()[*three.fallback_for_dcid(dcid)].id.hex();
    const auto after = two.backends()[*two.fallback_for_dcid(dcid)].id.hex();
    if (before != "0b02") {
      EXPECT_EQ(before, after);
    } else {
      ++moved;
    }
  }
  EXPECT_GT(moved, 400);
}

TEST(Router, TheFallbackKeyMatters) {
  const Router a = make_router(kSettings);
  std::string other = kSettings;
  other.replace(other.find("fallback-key 0f"), 15, "fallback-key 1f");
  const Router b = make_router(other);
  SeededRandom rng(5);
  int differ = 0;
  for (int i = 0; i < 300; ++i) {
    std::uint8_t dcid[8];
    rng.fill(dcid);
    differ += a.fallback_for_dcid(dcid) != b.fallback_for_dcid(dcid);
  }
  EXPECT_GT(differ, 100);  // ~2/3 of 300 with three backends
}

TEST(Router, BackendPrefixLookup) {
  const Router r = make_router(
      "config id=0 server-id-len=4 nonce-len=4\n"
      "backend 0a=192.0.2.1:1\nbackend 0b01=192.0.2.2:1\nbackend 0b0203=192.0.2.3:1\n");
  auto sid = [](std::string_view h) {
    auto b = hex(h);
    return ServerId(Bytes(b.data(), b.size()));
  };
  EXPECT_EQ(r.backend_for(sid("0a000000")), std::optional<std::size_t>(0));
  EXPECT_EQ(r.backend_for(sid("0b01ffff")), std::optional<std::size_t>(1));
  EXPECT_EQ(r.backend_for(sid("0b020300")), std::optional<std::size_t>(2));
  EXPECT_EQ(r.backend_for(sid("0b020400")), std::nullopt);
  EXPECT_EQ(r.backend_for(sid("0c000000")), std::nullopt);
  EXPECT_EQ(r.backend_for(sid("0b")), std::nullopt);
}

TEST(Router, GarbageNeverCrashes) {
  const Router r = make_router(kSettings);
  SeededRandom rng(6);
  for (int i = 0; i < 20000; ++i) {
    std::uint8_t buf[64];
    rng.fill(buf);
    const std::size_t n = rng.uniform(sizeof buf + 1);
    const Route x = r.route(Bytes(buf, n), kClient, kListen);
    if (x.reason == RouteReason::kMalformed) {
      EXPECT_FALSE(x.backend.has_value());
    } else {
      ASSERT_TRUE(x.backend.has_value());
      EXPECT_LT(*x.backend, r.backends().size());
    }
  }
}

}  // namespace
}  // namespace roam::lb

namespace roam::lb {
namespace {

TEST(Router, FourTupleModeIgnoresTheCid) {
  const Router r = make_router(kSettings);
  const ConnectionId cid = cid_for(r, 0, "0a0100", "0102030405");  // names backend 0
  const auto packet = short_header(cid);
  // The same CID from many client ports: routable mode always picks backend 0; 4-tuple mode
  // spreads them over all three backends (what a migrating client meets behind a plain L4 LB).
  std::map<std::size_t, int> seen;
  for (int i = 0; i < 60; ++i) {
    const auto client = kClient.with_port(static_cast<std::uint16_t>(20000 + i));
    EXPECT_EQ(r.route(packet, client, kListen).backend, std::optional<std::size_t>(0));
    const Route t = r.route_by_tuple(packet, client, kListen);
    EXPECT_EQ(t.reason, RouteReason::kFourTuple);
    EXPECT_FALSE(t.long_header);
    ASSERT_TRUE(t.backend);
    // Stable for one 4-tuple, and the same as the routable mode's short-header fallback.
    EXPECT_EQ(t.backend, r.route_by_tuple(packet, client, kListen).backend);
    EXPECT_EQ(t.backend, r.fallback_for_tuple(client, kListen));
    ++seen[*t.backend];
  }
  EXPECT_EQ(seen.size(), 3u);
  // Long headers too (no DCID hash): the 4-tuple decides.
  const auto initial = long_header(Bytes(cid.data(), cid.size()));
  const Route l = r.route_by_tuple(initial, kClient, kListen);
  EXPECT_TRUE(l.long_header);
  EXPECT_EQ(l.backend, r.fallback_for_tuple(kClient, kListen));
  EXPECT_EQ(r.route_by_tuple(Bytes(), kClient, kListen).reason, RouteReason::kMalformed);
  EXPECT_EQ(to_string(RouteReason::kFourTuple), "four-tuple");
}

}  // namespace
}  // namespace roam::lb
