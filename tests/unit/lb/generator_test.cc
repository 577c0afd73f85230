// RoutableCidGenerator: every CID routes to the same server and worker, CIDs are distinct and
// self-describe their length, the host ID is hidden under a key, and the worker can be steered.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/random.h"
#include "lb/generator.h"
#include "lb/router.h"

namespace roam::lb {
namespace {

Config keyed(std::uint8_t id, std::size_t sid, std::size_t nonce) {
  Config c;
  c.id = id;
  c.server_id_len = sid;
  c.nonce_len = nonce;
  c.key = Key{0x8f, 0x95, 0xf0, 0x92, 0x45, 0x76, 0x5f, 0x80, 0x25, 0x69, 0x34, 0xe5, 0x0c, 0x66, 0x20, 0x7f};
  return c;
}

Config plaintext(std::uint8_t id, std::size_t sid, std::size_t nonce) {
  Config c = keyed(id, sid, nonce);
  c.key.reset();
  return c;
}

const std::uint8_t kHost[] = {0x0a, 0x01};

std::unique_ptr<RoutableCidGenerator> make(const Config& c, std::uint32_t worker, Random& rng, WorkerLayout l = {}) {
  auto g = RoutableCidGenerator::create(c, Bytes(kHost, c.server_id_len - l.worker_bytes), worker, rng, l);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
  return g.ok() ? std::move(g.value()) : nullptr;
}

// Each config type: four-pass with 3 decode passes (server ID <= nonce), four-pass with 4,
// single pass, plaintext.
struct Case {
  std::string name;
  Config config;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class GeneratorTest : public ::testing::TestWithParam<Case> {};

INSTANTIATE_TEST_SUITE_P(Configs, GeneratorTest,
                         ::testing::Values(Case{"FourPass3", keyed(0, 3, 4)}, Case{"FourPass4", keyed(1, 6, 5)},
                                           Case{"SinglePass", keyed(2, 3, 13)}, Case{"Plaintext", plaintext(3, 3, 6)}),
                         [](const ::testing::TestParamInfo<Case>& param_info) { return param_info.param.name; });

TEST_P(GeneratorTest, TenThousandDistinctCidsAllNameOneServerAndWorker) {
  const Config c = GetParam().config;
  const std::uint8_t host[] = {0x0a, 0x01, 0x0c, 0x0d, 0x0e};
  const std::size_t host_len = c.server_id_len - 1;
  SeededRandom rng(42);
  auto created = RoutableCidGenerator::create(c, Bytes(host, host_len), 7, rng);
  ASSERT_TRUE(created.ok()) << created.error().message;
  const auto& gen = *created;
  EXPECT_EQ(gen->length(), c.cid_len());
  EXPECT_EQ(gen->server_id().hex(), to_hex(Bytes(host, host_len)) + "07");

  // The load balancer knows the host, not the worker.
  Settings s;
  s.configs = {c};
  const std::uint8_t other[] = {0x0b, 0x02};
  s.backends = {{ServerId(Bytes(host, host_len)), *SocketAddress::parse("192.0.2.1:4433")},
                {ServerId(Bytes(other, 2)), *SocketAddress::parse("192.0.2.2:4433")}};
  auto router = Router::create(s);
  ASSERT_TRUE(router.ok()) << router.error().message;

  std::set<std::string> seen;
  std::size_t host_visible = 0;
  for (int i = 0; i < 10'000; ++i) {
    const ConnectionId cid = gen->generate(rng);
    ASSERT_EQ(cid.size(), gen->length());
    EXPECT_EQ(config_id_of(cid[0]), c.id);
    EXPECT_EQ(cid[0] & kLengthMask, cid.size() - 1);
    EXPECT_TRUE(seen.insert(cid.hex()).second) << "duplicate CID " << cid.hex() << " at " << i;
    auto sid = gen->codec().server_id(cid.bytes());
    ASSERT_TRUE(sid.has_value());
    EXPECT_EQ(*sid, gen->server_id());
    EXPECT_EQ(gen->worker_of(cid.bytes()), std::optional<std::uint32_t>(7));
    // A short header carrying the CID reaches the host's backend whatever the client's address.
    std::vector<std::uint8_t> packet{0x41};
    packet.insert(packet.end(), cid.data(), cid.data() + cid.size());
    packet.insert(packet.end(), 20, 0xee);
    const auto client = SocketAddress::from_ipv4({198, 51, 100, static_cast<std::uint8_t>(i)},
                                                 static_cast<std::uint16_t>(1000 + i));
    const Route r = router->route(packet, client, *SocketAddress::parse("203.0.113.1:443"));
    EXPECT_EQ(r.reason, RouteReason::kServerId);
    EXPECT_EQ(r.backend, std::optional<std::size_t>(0));
    if (cid[1] == host[0] && cid[2] == host[1]) ++host_visible;
  }
  EXPECT_EQ(gen->issued(), 10'000u);
  EXPECT_FALSE(gen->exhausted());
  if (c.key) {
    EXPECT_LT(host_visible, 10u);  // by chance: 10 000 / 65 536 ~ 0.15
  } else {
    EXPECT_EQ(host_visible, 10'000u);
  }
}

TEST(Generator, NoncesAreNotACounter) {
  // The nonces are a permuted counter: unique, and no visible relationship between consecutive
  // ones (the draft requires this of plaintext configs).
  SeededRandom rng(5);
  auto gen = make(plaintext(0, 3, 4), 1, rng);
  ASSERT_NE(gen, nullptr);
  int sequential = 0;
  std::uint32_t prev = 0;
  for (int i = 0; i < 1000; ++i) {
    const ConnectionId cid = gen->generate(rng);
    const std::uint32_t nonce = std::uint32_t{cid[4]} << 24 | cid[5] << 16 | cid[6] << 8 | cid[7];
    if (i > 0 && (nonce - prev < 16 || prev - nonce < 16)) ++sequential;
    prev = nonce;
  }
  EXPECT_LT(sequential, 3);
}

TEST(Generator, TwoGeneratorsNeverShareACid) {
  // Two workers of one host, and two hosts, from the same seed: the server IDs differ, so the
  // CIDs do too even if nonces coincided.
  SeededRandom a(1), b(1);
  auto w0 = make(keyed(0, 3, 4), 0, a);
  auto w1 = make(keyed(0, 3, 4), 1, b);
  ASSERT_NE(w0, nullptr);
  ASSERT_NE(w1, nullptr);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto c0 = w0->generate(a), c1 = w1->generate(b);
    EXPECT_TRUE(seen.insert(c0.hex()).second);
    EXPECT_TRUE(seen.insert(c1.hex()).second);
    EXPECT_EQ(w0->worker_of(c0.bytes()), std::optional<std::uint32_t>(0));
    EXPECT_EQ(w1->worker_of(c1.bytes()), std::optional<std::uint32_t>(1));
    // Same host: each recognises the other's CIDs as its host's and reads the worker.
    EXPECT_EQ(w0->worker_of(c1.bytes()), std::optional<std::uint32_t>(1));
  }
}

TEST(Generator, WorkerOfRejectsForeignCids) {
  SeededRandom rng(3);
  auto gen = make(keyed(0, 3, 4), 2, rng);
  ASSERT_NE(gen, nullptr);
  const std::uint8_t other_host[] = {0x0b, 0x02};
  auto other = RoutableCidGenerator::create(keyed(0, 3, 4), other_host, 2, rng);
  ASSERT_TRUE(other.ok());
  const ConnectionId foreign = (*other)->generate(rng);
  EXPECT_EQ(gen->worker_of(foreign.bytes()), std::nullopt);
  const ConnectionId mine = gen->generate(rng);
  EXPECT_EQ(gen->worker_of(mine.bytes().first(mine.size() - 1)), std::nullopt);
  ConnectionId other_config = mine;
  other_config.mutable_data()[0] ^= 0x20;
  EXPECT_EQ(gen->worker_of(other_config.bytes()), std::nullopt);
  EXPECT_EQ(gen->worker_of(Bytes()), std::nullopt);
}

TEST(Generator, SteeringByteCarriesTheWorkerInTheClear) {
  SeededRandom rng(11);
  WorkerLayout layout;
  layout.steering_byte = true;
  auto gen = make(keyed(4, 3, 6), 9, rng, layout);
  ASSERT_NE(gen, nullptr);
  EXPECT_EQ(gen->length(), 11u);
  ASSERT_EQ(gen->steering_offset(), std::optional<std::size_t>(10));
  for (int i = 0; i < 100; ++i) {
    ConnectionId cid = gen->generate(rng);
    EXPECT_EQ(cid[0] & kLengthMask, 10);
    EXPECT_EQ(cid[*gen->steering_offset()], 9);
    EXPECT_EQ(gen->worker_of(cid.bytes()), std::optional<std::uint32_t>(9));
    cid.mutable_data()[10] = 8;  // a steering octet that disagrees with the encrypted worker
    EXPECT_EQ(gen->worker_of(cid.bytes()), std::nullopt);
  }
}

TEST(Generator, PlaintextConfigWorkerIsAtAFixedOffset) {
  SeededRandom rng(12);
  auto gen = make(plaintext(0, 3, 4), 0x42, rng);
  ASSERT_NE(gen, nullptr);
  ASSERT_EQ(gen->steering_offset(), std::optional<std::size_t>(3));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(gen->generate(rng)[3], 0x42);
  // Encrypted without a steering octet: the worker is readable only by decrypting.
  auto hidden = make(keyed(0, 3, 4), 0x42, rng);
  ASSERT_NE(hidden, nullptr);
  EXPECT_EQ(hidden->steering_offset(), std::nullopt);
}

TEST(Generator, WiderWorkerFieldsAndNone) {
  SeededRandom rng(13);
  WorkerLayout two;
  two.worker_bytes = 2;
  auto g2 = RoutableCidGenerator::create(keyed(0, 4, 5), kHost, 0x1234, rng, two);
  ASSERT_TRUE(g2.ok()) << g2.error().message;
  EXPECT_EQ((*g2)->server_id().hex(), "0a011234");
  EXPECT_EQ((*g2)->worker_of((*g2)->generate(rng).bytes()), std::optional<std::uint32_t>(0x1234));
  WorkerLayout none;
  none.worker_bytes = 0;
  auto g0 = RoutableCidGenerator::create(keyed(0, 2, 5), kHost, 0, rng, none);
  ASSERT_TRUE(g0.ok()) << g0.error().message;
  EXPECT_EQ((*g0)->server_id().hex(), "0a01");
  EXPECT_EQ((*g0)->worker_of((*g0)->generate(rng).bytes()), std::optional<std::uint32_t>(0));
}

TEST(Generator, CreateRejectsInconsistentLayouts) {
  SeededRandom rng(14);
  const std::uint8_t host3[] = {1, 2, 3};
  EXPECT_FALSE(RoutableCidGenerator::create(keyed(0, 3, 4), host3, 0, rng).ok());  // 3 + 1 != 3
  EXPECT_FALSE(RoutableCidGenerator::create(keyed(0, 3, 4), kHost, 256, rng).ok());  // worker > 1 octet
  EXPECT_FALSE(RoutableCidGenerator::create(keyed(0, 1, 4), Bytes(), 0, rng).ok());   // empty host ID
  WorkerLayout steer;
  steer.steering_byte = true;
  EXPECT_FALSE(RoutableCidGenerator::create(keyed(0, 3, 16), kHost, 0, rng, steer).ok());  // 20 + 1 octets
  WorkerLayout wide;
  wide.worker_bytes = 2;
  wide.steering_byte = true;
  EXPECT_FALSE(RoutableCidGenerator::create(keyed(0, 4, 4), kHost, 300, rng, wide).ok());  // steering octet
  Config bad = keyed(7, 3, 4);
  auto r = RoutableCidGenerator::create(bad, kHost, 0, rng);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("reserved"), std::string::npos) << r.error().message;
}

TEST(Generator, UsableThroughTheInterface) {
  SeededRandom rng(15);
  auto gen = make(keyed(0, 3, 4), 3, rng);
  ASSERT_NE(gen, nullptr);
  const cid::CidGenerator& iface = *gen;
  EXPECT_EQ(iface.length(), 8u);
  EXPECT_EQ(gen->worker_of(iface.generate(rng).bytes()), std::optional<std::uint32_t>(3));
}

}  // namespace
}  // namespace roam::lb
