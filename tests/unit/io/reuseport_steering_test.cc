// The SO_REUSEPORT steering program on real loopback sockets: three sockets in one group, datagrams
// whose octets name a worker reach that worker's socket, whoever sends them.
#include "io/reuseport_steering.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <chrono>
#include <optional>
#include <vector>

#include "lb/encap.h"
#include "loopback.h"

namespace roam::io {
namespace {

using loopback::open_or_die;

constexpr std::uint32_t kWorkers = 3;
constexpr std::size_t kCidLength = 9;
constexpr std::size_t kWorkerOffset = 8;  // the last CID octet, as roam-server's worker CIDs have it

SocketAddress v4(std::uint16_t port = 0) { return SocketAddress::loopback_ipv4(port); }

// kWorkers sockets bound in order to one 127.0.0.1 port, the program attached to the first.
class SteeringGroup {
 public:
  explicit SteeringGroup(bool encapsulated, const SocketAddress& base = v4()) {
    SocketOptions o;
    o.reuse_port = true;
    o.gro = false;  // one datagram per receive, so counting is exact
    for (std::uint32_t i = 0; i < kWorkers; ++i) {
      sockets_.push_back(open_or_die(i == 0 ? base : sockets_.front().local_address(), o));
    }
    SteeringLayout layout;
    layout.workers = kWorkers;
    layout.cid_length = kCidLength;
    layout.worker_offset = kWorkerOffset;
    layout.encapsulated = encapsulated;
    const auto program = build_steering_program(layout);
    EXPECT_FALSE(program.empty());
    auto ok = attach_steering_program(sockets_.front().fd(), program);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().message());
  }

  const SocketAddress& address() const { return sockets_.front().local_address(); }

  // Which socket received `data` sent from `from`: its index, or nullopt if none within 2 s.
  // Fails the test if more than one did.
  std::optional<std::size_t> deliver(UdpSocket& from, const std::vector<std::uint8_t>& data) {
    Transmit t;
    t.peer = address();
    t.data = data;
    EXPECT_TRUE(from.send(std::span(&t, 1)).ok());
    std::optional<std::size_t> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!got && std::chrono::steady_clock::now() < deadline) {
      std::array<pollfd, kWorkers> p{};
      for (std::size_t i = 0; i < kWorkers; ++i) p[i] = {sockets_[i].fd(), POLLIN, 0};
      ::poll(p.data(), p.size(), 50);
      for (std::size_t i = 0; i < kWorkers; ++i) {
        if (sockets_[i].receive(batch_) == 0) continue;
        EXPECT_EQ(batch_.size(), 1u);
        EXPECT_FALSE(got) << "delivered twice";
        EXPECT_EQ(std::vector<std::uint8_t>(batch_.begin()->data.begin(), batch_.begin()->data.end()), data);
        got = i;
      }
    }
    return got;
  }

 private:
  std::vector<UdpSocket> sockets_;
  ReceiveBatch batch_;
};

// A short-header packet whose DCID carries `worker` at kWorkerOffset.
std::vector<std::uint8_t> short_header(std::uint8_t worker) {
  std::vector<std::uint8_t> d(40, 0xab);
  d[0] = 0x43;
  d[1 + kWorkerOffset] = worker;
  return d;
}

// A long-header (Initial) packet with a DCID of dcid_len octets; `octet` goes at offset at in the DCID.
std::vector<std::uint8_t> long_header(std::size_t dcid_len, std::size_t at, std::uint8_t octet) {
  std::vector<std::uint8_t> d(1200, 0);
  d[0] = 0xc3;
  d[1] = 0;
  d[2] = 0;
  d[3] = 0;
  d[4] = 1;  // version 1
  d[5] = static_cast<std::uint8_t>(dcid_len);
  for (std::size_t i = 0; i < dcid_len; ++i) d[6 + i] = static_cast<std::uint8_t>(0x50 + i);
  d[6 + at] = octet;
  return d;
}

std::vector<std::uint8_t> encapsulate(const SocketAddress& client, const SocketAddress& listen,
                                      const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out(payload.size() + lb::kEncapMaxHeaderSize);
  auto n = lb::encapsulate({client, listen}, payload, out);
  EXPECT_TRUE(n);
  out.resize(n ? *n : 0);
  return out;
}

TEST(ReuseportSteering, ShortHeadersReachTheWorkerTheirCidNames) {
  SteeringGroup g(false);
  auto a = open_or_die(v4());
  auto b = open_or_die(v4());
  for (std::uint8_t w = 0; w < kWorkers; ++w) {
    // From two senders (two 4-tuples), so the kernel's hash cannot be what put it there.
    EXPECT_EQ(g.deliver(a, short_header(w)), w);
    EXPECT_EQ(g.deliver(b, short_header(w)), w);
  }
  for (std::uint8_t w : {2, 0, 1, 1, 2, 0}) EXPECT_EQ(g.deliver(a, short_header(w)), w);
}

TEST(ReuseportSteering, AForeignWorkerOctetFallsBackToTheKernelHash) {
  SteeringGroup g(false);
  auto a = open_or_die(v4());
  // 200 names no worker: the kernel hashes the 4-tuple, so one sender always reaches one socket.
  const auto first = g.deliver(a, short_header(200));
  ASSERT_TRUE(first);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(g.deliver(a, short_header(200)), first);
}

TEST(ReuseportSteering, LongHeadersGoByTheirDcid) {
  SteeringGroup g(false);
  auto a = open_or_die(v4());
  auto b = open_or_die(v4());
  // A DCID of our length (a client's Handshake or later Initial): its worker octet.
  for (std::uint8_t w = 0; w < kWorkers; ++w) {
    EXPECT_EQ(g.deliver(a, long_header(kCidLength, kWorkerOffset, w)), w);
    EXPECT_EQ(g.deliver(b, long_header(kCidLength, kWorkerOffset, w)), w);
  }
  // A DCID the client chose (other length): its first octet modulo the group size, from any port.
  for (std::uint8_t first : {0x00, 0x07, 0x11, 0xfe}) {
    EXPECT_EQ(g.deliver(a, long_header(8, 0, first)), first % kWorkers);
    EXPECT_EQ(g.deliver(b, long_header(8, 0, first)), first % kWorkers);
  }
  // Our length but a random octet there (a client DCID that happens to have our length): modulo too.
  EXPECT_EQ(g.deliver(a, long_header(kCidLength, kWorkerOffset, 0x0b)), 0x0b % kWorkers);
}

TEST(ReuseportSteering, TooShortForTheLoadGoesToTheFirstSocket) {
  SteeringGroup g(false);
  auto a = open_or_die(v4());
  EXPECT_EQ(g.deliver(a, {0x43, 0x01}), 0u);  // the worker octet is past the end
}

TEST(ReuseportSteering, EncapsulatedDatagramsAreSteeredByThePacketInside) {
  SteeringGroup g(true);
  auto lb = open_or_die(v4());
  auto other = open_or_die(v4());
  const auto c4 = SocketAddress::from_ipv4({192, 0, 2, 7}, 50000);
  const auto l4 = SocketAddress::from_ipv4({198, 51, 100, 1}, 443);
  const auto c6 = *SocketAddress::parse("[2001:db8::7]:50000");
  const auto l6 = *SocketAddress::parse("[2001:db8::1]:443");
  for (std::uint8_t w = 0; w < kWorkers; ++w) {
    // Every header size (14, 26, 38): all from one LB, one 4-tuple, yet each to its worker.
    EXPECT_EQ(g.deliver(lb, encapsulate(c4, l4, short_header(w))), w);
    EXPECT_EQ(g.deliver(lb, encapsulate(c6, l4, short_header(w))), w);
    EXPECT_EQ(g.deliver(lb, encapsulate(c4, l6, short_header(w))), w);
    EXPECT_EQ(g.deliver(lb, encapsulate(c6, l6, short_header(w))), w);
    EXPECT_EQ(g.deliver(lb, encapsulate(c4, l4, long_header(kCidLength, kWorkerOffset, w))), w);
  }
  EXPECT_EQ(g.deliver(lb, encapsulate(c4, l4, long_header(8, 0, 0x10))), 0x10 % kWorkers);
  // Clients that reach the server directly (no header) are steered the same way.
  for (std::uint8_t w = 0; w < kWorkers; ++w) EXPECT_EQ(g.deliver(other, short_header(w)), w);
  // A header with unknown families: the kernel hash, stable per sender.
  std::vector<std::uint8_t> bad = encapsulate(c4, l4, short_header(1));
  bad[1] = 0x55;
  const auto first = g.deliver(lb, bad);
  ASSERT_TRUE(first);
  EXPECT_EQ(g.deliver(lb, bad), first);
}

TEST(ReuseportSteering, RefusesLayoutsItCannotServe) {
  EXPECT_TRUE(build_steering_program({0, 8, 7, false}).empty());
  EXPECT_TRUE(build_steering_program({257, 8, 7, false}).empty());
  EXPECT_TRUE(build_steering_program({4, 0, 0, false}).empty());
  EXPECT_TRUE(build_steering_program({4, 21, 7, false}).empty());
  EXPECT_TRUE(build_steering_program({4, 8, 8, false}).empty());
  EXPECT_FALSE(build_steering_program({256, 20, 19, true}).empty());
  EXPECT_FALSE(attach_steering_program(-1, build_steering_program({2, 8, 7, false})));
  EXPECT_FALSE(attach_steering_program(0, {}));
}

TEST(ReuseportSteering, ASocketOutsideAReuseportGroupRefusesTheProgram) {
  auto s = open_or_die(v4());
  EXPECT_FALSE(attach_steering_program(s.fd(), build_steering_program({2, 8, 7, false})));
}

}  // namespace
}  // namespace roam::io
