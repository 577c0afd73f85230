#include "io/udp_socket.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "loopback.h"

namespace roam::io {
namespace {

using loopback::Copied;
using loopback::drain;
using loopback::open_or_die;
using loopback::pattern;
using loopback::receive_n;

const SocketAddress kV4 = SocketAddress::loopback_ipv4();
const SocketAddress kV6 = SocketAddress::loopback_ipv6();

SocketAddress v4(std::uint8_t last, std::uint16_t port = 0) { return SocketAddress::from_ipv4({127, 0, 0, last}, port); }

SocketOptions ipv6_only() {
  SocketOptions o;
  o.ipv6_only = true;
  return o;
}

Transmit to(const SocketAddress& peer, const std::vector<std::uint8_t>& data, std::size_t segment = 0) {
  Transmit t;
  t.peer = peer;
  t.data = data;
  t.segment_size = segment;
  return t;
}

// Transmits borrow their bytes: a temporary would dangle.
Transmit to(const SocketAddress& peer, std::vector<std::uint8_t>&& data, std::size_t segment = 0) = delete;

TEST(UdpSocket, BindingPortZeroReportsTheRealPort) {
  auto s = open_or_die(kV4);
  EXPECT_NE(s.local_address().port(), 0);
  EXPECT_TRUE(s.local_address().same_ip(kV4));
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  ASSERT_EQ(::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&ss), &len), 0);
  EXPECT_EQ(SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len), s.local_address());
  auto s6 = open_or_die(kV6);
  EXPECT_NE(s6.local_address().port(), 0);
  EXPECT_TRUE(s6.is_ipv6());
}

TEST(UdpSocket, CapabilitiesOnThisKernel) {
  auto s = open_or_die(kV4);
  const Capabilities& c = s.capabilities();
  EXPECT_TRUE(c.gso);
  EXPECT_TRUE(c.gro);
  EXPECT_TRUE(c.pktinfo);
  EXPECT_TRUE(c.ecn);
  EXPECT_EQ(c.max_gso_segments, 64u);

  SocketOptions off;
  off.gso = off.gro = off.pktinfo = off.ecn = false;
  auto plain = open_or_die(kV4, off);
  EXPECT_FALSE(plain.capabilities().gso);
  EXPECT_FALSE(plain.capabilities().gro);
  EXPECT_FALSE(plain.capabilities().pktinfo);
  EXPECT_FALSE(plain.capabilities().ecn);
  EXPECT_EQ(plain.capabilities().max_gso_segments, 1u);
}

TEST(UdpSocket, PortInUseIsAnErrorUnlessReusePort) {
  auto a = open_or_die(kV4);
  auto clash = UdpSocket::open(a.local_address());
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, EADDRINUSE);
  EXPECT_EQ(clash.error().message(), "bind: Address already in use");

  SocketOptions reuse;
  reuse.reuse_port = true;
  auto first = open_or_die(kV4, reuse);
  auto second = UdpSocket::open(first.local_address(), reuse);
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(second->local_address(), first.local_address());
}

TEST(UdpSocket, BufferSizesAreApplied) {
  SocketOptions o;
  o.recv_buffer_bytes = 4 << 20;
  o.send_buffer_bytes = 1 << 20;
  auto s = open_or_die(kV4, o);
  int rcv = 0;
  socklen_t len = sizeof(rcv);
  ASSERT_EQ(::getsockopt(s.fd(), SOL_SOCKET, SO_RCVBUF, &rcv, &len), 0);
  EXPECT_GE(rcv, 4 << 20);  // the kernel doubles the request; FORCE lifts the sysctl ceiling as root
  int snd = 0;
  ASSERT_EQ(::getsockopt(s.fd(), SOL_SOCKET, SO_SNDBUF, &snd, &len), 0);
  EXPECT_GE(snd, 1 << 20);
}

TEST(UdpSocket, UnknownDeviceFailsTheOpen) {
  SocketOptions o;
  o.bind_device = "roam-no-such-if";
  auto s = UdpSocket::open(kV4, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().op, "setsockopt(SO_BINDTODEVICE)");
}

void single_datagrams_round_trip(const SocketAddress& ip) {
  auto rx = open_or_die(ip);
  auto tx = open_or_die(ip);
  std::vector<std::vector<std::uint8_t>> payloads;
  for (std::size_t i = 0; i < 5; ++i) payloads.push_back(pattern(100 + i * 300, static_cast<std::uint8_t>(i)));
  payloads.push_back({});  // an empty datagram is a datagram
  std::vector<Transmit> batch;
  for (const auto& p : payloads) batch.push_back(to(rx.local_address(), p));
  const SendResult r = tx.send(batch);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.sent, payloads.size());
  EXPECT_EQ(tx.stats().send_calls, 1u);  // one sendmmsg for the batch
  EXPECT_EQ(tx.stats().datagrams_sent, payloads.size());

  ReceiveBatch rb;
  const auto got = receive_n(rx, payloads.size(), rb);
  ASSERT_EQ(got.size(), payloads.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].data, payloads[i]) << i;
    EXPECT_EQ(got[i].peer, tx.local_address());
    EXPECT_EQ(got[i].local, rx.local_address());
    EXPECT_EQ(got[i].ecn, kEcnNotEct);
  }
}

TEST(UdpSocket, SingleDatagramsRoundTripIpv4) { single_datagrams_round_trip(kV4); }
TEST(UdpSocket, SingleDatagramsRoundTripIpv6) { single_datagrams_round_trip(kV6); }

// One GSO send becomes one GRO receive on loopback; the receiver splits it back into datagrams of
// the sender's segment size, the last one shorter.
void gso_batch_round_trip(const SocketAddress& ip) {
  auto rx = open_or_die(ip);
  auto tx = open_or_die(ip);
  ASSERT_TRUE(tx.capabilities().gso);
  ASSERT_TRUE(rx.capabilities().gro);
  const std::size_t segment = 1200;
  const auto data = pattern(segment * 9 + 500, 7);
  const Transmit t = to(rx.local_address(), data, segment);
  ASSERT_EQ(t.segment_count(), 10u);
  const SendResult r = tx.send({&t, 1});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(tx.stats().send_calls, 1u);
  EXPECT_EQ(tx.stats().datagrams_sent, 10u);

  ReceiveBatch rb;
  const auto got = receive_n(rx, 10, rb);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(rx.stats().receive_calls, 1u);  // one coalesced train, one message
  for (std::size_t i = 0; i < 10; ++i) {
    const std::size_t expect_len = i < 9 ? segment : 500;
    ASSERT_EQ(got[i].data.size(), expect_len) << i;
    EXPECT_TRUE(std::equal(got[i].data.begin(), got[i].data.end(), data.begin() + static_cast<std::ptrdiff_t>(i * segment)))
        << i;
    EXPECT_EQ(got[i].peer, tx.local_address());
  }
}

TEST(UdpSocket, GsoBatchRoundTripIpv4) { gso_batch_round_trip(kV4); }
TEST(UdpSocket, GsoBatchRoundTripIpv6) { gso_batch_round_trip(kV6); }

// More segments than one GSO send may carry, mixed with single datagrams, in one call.
TEST(UdpSocket, LargeGsoTransmitsAreSplitIntoKernelSizedSends) {
  SocketOptions big;
  big.recv_buffer_bytes = 8 << 20;
  auto rx = open_or_die(kV4, big);
  auto tx = open_or_die(kV4);
  const auto a = pattern(1000 * 150 + 1, 1);  // 151 datagrams: 64 + 64 + 23 per GSO send
  const auto b = pattern(77, 2);
  const auto c = pattern(100 * 700, 3);  // 700 datagrams of 100 bytes: 64 per send
  const std::vector<Transmit> batch = {to(rx.local_address(), a, 1000), to(rx.local_address(), b),
                                       to(rx.local_address(), c, 100)};
  const SendResult r = tx.send(batch);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.sent, 3u);
  EXPECT_EQ(tx.stats().datagrams_sent, 151u + 1u + 700u);

  ReceiveBatch rb;
  const auto got = receive_n(rx, 852, rb);
  ASSERT_EQ(got.size(), 852u);
  std::vector<std::uint8_t> ra, rc;
  for (std::size_t i = 0; i < 151; ++i) ra.insert(ra.end(), got[i].data.begin(), got[i].data.end());
  EXPECT_EQ(ra, a);
  EXPECT_EQ(got[150].data.size(), 1u);
  EXPECT_EQ(got[151].data, b);
  for (std::size_t i = 152; i < 852; ++i) {
    ASSERT_EQ(got[i].data.size(), 100u);
    rc.insert(rc.end(), got[i].data.begin(), got[i].data.end());
  }
  EXPECT_EQ(rc, c);
}

TEST(UdpSocket, WithoutGsoASegmentedTransmitGoesOutAsDatagrams) {
  auto rx = open_or_die(kV4);
  SocketOptions no_gso;
  no_gso.gso = false;
  auto tx = open_or_die(kV4, no_gso);
  const auto data = pattern(1300 * 4, 9);
  const Transmit t = to(rx.local_address(), data, 1300);
  ASSERT_TRUE(tx.send({&t, 1}).ok());
  EXPECT_EQ(tx.stats().send_calls, 1u);  // four messages, one sendmmsg
  ReceiveBatch rb;
  const auto got = receive_n(rx, 4, rb);
  ASSERT_EQ(got.size(), 4u);
  for (const auto& g : got) EXPECT_EQ(g.data.size(), 1300u);
}

// A server bound to 0.0.0.0 learns which of its addresses each client used, and answers from it.
TEST(UdpSocket, PktinfoReportsTheAddressTheSenderTargeted) {
  auto server = open_or_die(SocketAddress::any_ipv4());
  ASSERT_TRUE(server.capabilities().pktinfo);
  const std::uint16_t port = server.local_address().port();
  auto client = open_or_die(SocketAddress::any_ipv4());
  const auto hello = pattern(50);
  const std::vector<Transmit> out = {to(v4(2, port), hello), to(v4(3, port), hello)};
  ASSERT_TRUE(client.send(out).ok());

  ReceiveBatch rb;
  const auto got = receive_n(server, 2, rb);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].local, v4(2, port));
  EXPECT_EQ(got[1].local, v4(3, port));

  // Replies from the address each datagram arrived on.
  std::vector<Transmit> replies;
  for (const auto& g : got) {
    Transmit t = to(g.peer, g.data);
    t.local = g.local;
    replies.push_back(t);
  }
  ASSERT_TRUE(server.send(replies).ok());
  const auto back = receive_n(client, 2, rb);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].peer, v4(2, port));
  EXPECT_EQ(back[1].peer, v4(3, port));
}

TEST(UdpSocket, ChosenSourceAddressIsWhatThePeerSees) {
  auto rx = open_or_die(kV4);
  auto tx = open_or_die(SocketAddress::any_ipv4());
  const auto data = pattern(300);
  Transmit t = to(rx.local_address(), data);
  t.local = v4(5, 1);  // the port is ignored: datagrams leave from the socket's port
  const auto train = pattern(3000);
  Transmit gso = to(rx.local_address(), train, 1000);
  gso.local = v4(5);
  const std::vector<Transmit> batch = {t, gso};
  ASSERT_TRUE(tx.send(batch).ok());
  ReceiveBatch rb;
  const auto got = receive_n(rx, 4, rb);
  ASSERT_EQ(got.size(), 4u);
  for (const auto& g : got) EXPECT_EQ(g.peer, v4(5, tx.local_address().port()));
}

TEST(UdpSocket, Ipv6PktinfoAndSourceAddress) {
  auto server = open_or_die(SocketAddress::any_ipv6(), ipv6_only());
  auto client = open_or_die(kV6);
  const auto data = pattern(64);
  ASSERT_TRUE(client.send(std::vector<Transmit>{to(kV6.with_port(server.local_address().port()), data)}).ok());
  ReceiveBatch rb;
  const auto got = receive_n(server, 1, rb);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].local, kV6.with_port(server.local_address().port()));
  Transmit reply = to(got[0].peer, data);
  reply.local = got[0].local;
  ASSERT_TRUE(server.send({&reply, 1}).ok());
  const auto back = receive_n(client, 1, rb);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].peer, kV6.with_port(server.local_address().port()));
}

// A dual-stack socket sees IPv4 peers as IPv4 addresses (not ::ffff:...), with their local
// address and ECN bits, and can answer them from a chosen IPv4 source.
TEST(UdpSocket, DualStackSocketSpeaksIpv4) {
  auto server = open_or_die(SocketAddress::any_ipv6());
  ASSERT_TRUE(server.is_ipv6());
  const std::uint16_t port = server.local_address().port();
  auto client = open_or_die(kV4);
  const auto hello = pattern(10);
  Transmit t = to(v4(7, port), hello);
  t.ecn = kEcnEct0;
  ASSERT_TRUE(client.send({&t, 1}).ok());
  ReceiveBatch rb;
  const auto got = receive_n(server, 1, rb);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].peer, client.local_address());
  EXPECT_TRUE(got[0].peer.is_ipv4());
  EXPECT_EQ(got[0].local, v4(7, port));
  EXPECT_EQ(got[0].ecn, kEcnEct0);

  const auto seg = pattern(2500, 4);
  Transmit reply = to(got[0].peer, seg, 1000);
  reply.local = got[0].local;
  reply.ecn = kEcnCe;
  ASSERT_TRUE(server.send({&reply, 1}).ok());
  const auto back = receive_n(client, 3, rb);
  ASSERT_EQ(back.size(), 3u);
  for (const auto& b : back) {
    EXPECT_EQ(b.peer, v4(7, port));
    EXPECT_EQ(b.ecn, kEcnCe);
  }
  EXPECT_EQ(back[2].data.size(), 500u);
}

TEST(UdpSocket, Ipv6OnlySocketCannotReachIpv4) {
  auto s = open_or_die(SocketAddress::any_ipv6(), ipv6_only());
  auto v4rx = open_or_die(kV4);
  const auto data = pattern(10);
  const Transmit t = to(v4rx.local_address(), data);
  const SendResult r = s.send({&t, 1});
  EXPECT_EQ(r.status, SendStatus::kError);
  EXPECT_EQ(r.sent, 0u);
  EXPECT_EQ(r.error, ENETUNREACH);
}

void ecn_round_trip(const SocketAddress& ip) {
  auto rx = open_or_die(ip);
  auto tx = open_or_die(ip);
  ASSERT_TRUE(rx.capabilities().ecn);
  const auto data = pattern(20);
  std::vector<Transmit> batch;
  for (std::uint8_t ecn : {kEcnEct0, kEcnCe, kEcnEct1, kEcnNotEct, kEcnEct0}) {
    Transmit t = to(rx.local_address(), data);
    t.ecn = ecn;
    batch.push_back(t);
  }
  ASSERT_TRUE(tx.send(batch).ok());
  ReceiveBatch rb;
  const auto got = receive_n(rx, batch.size(), rb);
  ASSERT_EQ(got.size(), batch.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].ecn, batch[i].ecn) << i;
}

TEST(UdpSocket, EcnBitsRoundTripIpv4) { ecn_round_trip(kV4); }
TEST(UdpSocket, EcnBitsRoundTripIpv6) { ecn_round_trip(kV6); }

TEST(UdpSocket, EcnOnAGsoTrain) {
  auto rx = open_or_die(kV6);
  auto tx = open_or_die(kV6);
  const auto train = pattern(4000);
  Transmit t = to(rx.local_address(), train, 1000);
  t.ecn = kEcnEct0;
  ASSERT_TRUE(tx.send({&t, 1}).ok());
  ReceiveBatch rb;
  const auto got = receive_n(rx, 4, rb);
  ASSERT_EQ(got.size(), 4u);
  for (const auto& g : got) EXPECT_EQ(g.ecn, kEcnEct0);
}

TEST(UdpSocket, TooBigIsReportedAtItsIndex) {
  auto rx = open_or_die(kV4);
  auto tx = open_or_die(kV4);
  const auto small = pattern(100);
  const std::vector<std::uint8_t> huge(kMaxUdpPayload + 1, 0xab);
  const std::vector<Transmit> batch = {to(rx.local_address(), small), to(rx.local_address(), huge),
                                       to(rx.local_address(), small)};
  const SendResult r = tx.send(batch);
  EXPECT_EQ(r.status, SendStatus::kMessageTooBig);
  EXPECT_EQ(r.error, EMSGSIZE);
  EXPECT_EQ(r.sent, 1u);
  EXPECT_EQ(r.partial_bytes, 0u);
  EXPECT_TRUE(tx.capabilities().gso);  // not mistaken for a GSO refusal
  // The caller drops the big one and goes on.
  const SendResult rest = tx.send(std::span(batch).subspan(r.sent + 1));
  EXPECT_TRUE(rest.ok());
  ReceiveBatch rb;
  EXPECT_EQ(receive_n(rx, 2, rb).size(), 2u);
}

TEST(UdpSocket, InvalidTransmitsAreRejectedWithoutTouchingGso) {
  auto tx = open_or_die(kV4);
  auto rx = open_or_die(kV4);
  const auto data = pattern(3000);
  const std::vector<Transmit> batch = {to(rx.local_address(), data, 1000), to(kV4.with_port(0), data, 1000)};
  const SendResult r = tx.send(batch);
  EXPECT_EQ(r.status, SendStatus::kError);
  EXPECT_EQ(r.error, EINVAL);
  EXPECT_EQ(r.sent, 1u);
  EXPECT_TRUE(tx.capabilities().gso);

  const Transmit six = to(kV6.with_port(9), data);
  const SendResult r6 = tx.send({&six, 1});
  EXPECT_EQ(r6.status, SendStatus::kError);
  EXPECT_EQ(r6.error, EAFNOSUPPORT);

  Transmit mixed = to(rx.local_address(), data);
  mixed.local = kV6;
  EXPECT_EQ(tx.send({&mixed, 1}).error, EAFNOSUPPORT);
  ReceiveBatch rb;
  EXPECT_EQ(receive_n(rx, 3, rb).size(), 3u);  // only the first transmit's three datagrams
}

// SO_NO_CHECK (no UDP checksum) makes the kernel refuse GSO with EINVAL, like a device without
// checksum offload: the socket resends without GSO, then stops using it.
TEST(UdpSocket, GsoRefusedByTheKernelFallsBackToDatagrams) {
  auto rx = open_or_die(kV4);
  auto tx = open_or_die(kV4);
  const int one = 1;
  ASSERT_EQ(::setsockopt(tx.fd(), SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)), 0);
  const auto data = pattern(1000 * 5, 3);
  const std::vector<Transmit> batch = {to(rx.local_address(), data, 1000), to(rx.local_address(), data, 1000)};
  const SendResult r = tx.send(batch);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.sent, 2u);
  EXPECT_FALSE(tx.capabilities().gso);
  EXPECT_EQ(tx.capabilities().max_gso_segments, 1u);
  EXPECT_EQ(tx.stats().gso_fallbacks, 1u);
  EXPECT_EQ(tx.stats().datagrams_sent, 10u);
  ReceiveBatch rb;
  const auto got = receive_n(rx, 10, rb);
  ASSERT_EQ(got.size(), 10u);
  std::vector<std::uint8_t> joined;
  for (std::size_t i = 0; i < 5; ++i) joined.insert(joined.end(), got[i].data.begin(), got[i].data.end());
  EXPECT_EQ(joined, data);
}

// Forwards to the kernel but lets only `budget` messages through, then fails like a full send
// buffer; optionally refuses GSO messages with EIO.
class LimitedSyscalls : public Syscalls {
 public:
  std::size_t budget = SIZE_MAX;
  bool refuse_gso = false;
  std::size_t calls = 0;

  int sendmmsg(int fd, mmsghdr* msgs, unsigned int count, int flags) override {
    ++calls;
    if (refuse_gso && has_gso(msgs[0].msg_hdr)) {
      errno = EIO;
      return -1;
    }
    if (budget == 0) {
      errno = EAGAIN;
      return -1;
    }
    unsigned n = static_cast<unsigned>(std::min<std::size_t>(count, budget));
    if (refuse_gso) {
      for (unsigned i = 1; i < n; ++i) {
        if (has_gso(msgs[i].msg_hdr)) n = i;
      }
    }
    const int r = Syscalls::sendmmsg(fd, msgs, n, flags);
    if (r > 0) budget -= static_cast<std::size_t>(r);
    return r;
  }

 private:
  static bool has_gso(msghdr& h) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT) return true;
    }
    return false;
  }
};

TEST(UdpSocket, WouldBlockReportsHowManyWentOut) {
  auto rx = open_or_die(kV4);
  auto tx = open_or_die(kV4);
  LimitedSyscalls sys;
  sys.budget = 4;
  tx.set_syscalls(&sys);
  std::vector<std::vector<std::uint8_t>> payloads;
  for (std::uint8_t i = 0; i < 10; ++i) payloads.push_back(pattern(200, i));
  std::vector<Transmit> batch;
  for (const auto& p : payloads) batch.push_back(to(rx.local_address(), p));

  const SendResult r = tx.send(batch);
  EXPECT_EQ(r.status, SendStatus::kWouldBlock);
  EXPECT_EQ(r.error, EAGAIN);
  EXPECT_EQ(r.sent, 4u);
  EXPECT_EQ(r.partial_bytes, 0u);
  ReceiveBatch rb;
  auto got = receive_n(rx, 4, rb);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(drain(rx, rb), 0u);

  // Writable again: the caller resumes where it stopped.
  sys.budget = SIZE_MAX;
  const SendResult rest = tx.send(std::span(batch).subspan(r.sent));
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest.sent, 6u);
  auto more = receive_n(rx, 6, rb);
  got.insert(got.end(), more.begin(), more.end());
  ASSERT_EQ(got.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(got[i].data, payloads[i]) << i;
}

// A GSO transmit bigger than one kernel send can stop in the middle: partial_bytes says where.
TEST(UdpSocket, WouldBlockInsideAGsoTransmitReportsPartialBytes) {
  SocketOptions big;
  big.recv_buffer_bytes = 4 << 20;
  auto rx = open_or_die(kV4, big);
  auto tx = open_or_die(kV4);
  LimitedSyscalls sys;
  sys.budget = 2;  // two GSO sends of 64 segments each
  tx.set_syscalls(&sys);
  const auto data = pattern(100 * 200, 5);
  const Transmit t = to(rx.local_address(), data, 100);
  const SendResult r = tx.send({&t, 1});
  EXPECT_EQ(r.status, SendStatus::kWouldBlock);
  EXPECT_EQ(r.sent, 0u);
  EXPECT_EQ(r.partial_bytes, 128u * 100u);

  sys.budget = SIZE_MAX;
  Transmit rest = t;
  rest.data = t.data.subspan(r.partial_bytes);
  ASSERT_TRUE(tx.send({&rest, 1}).ok());
  ReceiveBatch rb;
  const auto got = receive_n(rx, 200, rb);
  ASSERT_EQ(got.size(), 200u);
  std::vector<std::uint8_t> joined;
  for (const auto& g : got) joined.insert(joined.end(), g.data.begin(), g.data.end());
  EXPECT_EQ(joined, data);
}

TEST(UdpSocket, EioFromGsoFallsBackAndKeepsOrder) {
  auto rx = open_or_die(kV4);
  auto tx = open_or_die(kV4);
  LimitedSyscalls sys;
  sys.refuse_gso = true;
  tx.set_syscalls(&sys);
  const auto a = pattern(50, 1);
  const auto b = pattern(1200 * 3, 2);
  const std::vector<Transmit> batch = {to(rx.local_address(), a), to(rx.local_address(), b, 1200),
                                       to(rx.local_address(), a)};
  const SendResult r = tx.send(batch);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(tx.capabilities().gso);
  ReceiveBatch rb;
  const auto got = receive_n(rx, 5, rb);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].data, a);
  for (std::size_t i = 1; i <= 3; ++i) {
    EXPECT_TRUE(std::equal(got[i].data.begin(), got[i].data.end(), b.begin() + static_cast<std::ptrdiff_t>((i - 1) * 1200)));
  }
  EXPECT_EQ(got[4].data, a);
  // From now on no GSO message is even tried.
  sys.calls = 0;
  const Transmit again = to(rx.local_address(), b, 1200);
  ASSERT_TRUE(tx.send({&again, 1}).ok());
  EXPECT_EQ(sys.calls, 1u);
  EXPECT_EQ(receive_n(rx, 3, rb).size(), 3u);
}

// On loopback the kernel drops what a full receiver cannot take instead of blocking the sender
// (the loopback device releases the sender's buffer at transmit). A tiny send buffer against a
// receiver that never reads must still return promptly, with counts that add up.
TEST(UdpSocket, NonReadingReceiverNeverBlocksTheSender) {
  SocketOptions tiny;
  tiny.recv_buffer_bytes = 4096;
  tiny.send_buffer_bytes = 4096;
  auto rx = open_or_die(kV4, tiny);
  auto tx = open_or_die(kV4, tiny);
  const auto data = pattern(1200);
  const std::vector<Transmit> batch(100, to(rx.local_address(), data));
  const auto start = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  std::size_t would_block = 0;
  for (int round = 0; round < 50; ++round) {
    const SendResult r = tx.send(batch);
    ASSERT_TRUE(r.ok() || r.status == SendStatus::kWouldBlock) << r.error;
    ASSERT_LE(r.sent, batch.size());
    if (!r.ok()) ++would_block;
    sent += r.sent;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(tx.stats().datagrams_sent, sent);
  ReceiveBatch rb;
  const std::size_t queued = drain(rx, rb);
  EXPECT_GT(queued, 0u);
  EXPECT_LT(queued, sent);  // the rest was dropped at the receiver, not queued at the sender
  RecordProperty("would_block_rounds", static_cast<int>(would_block));
}

TEST(UdpSocket, OversizedDatagramIsDroppedNotTruncated) {
  auto rx = open_or_die(kV4);
  auto tx = open_or_die(kV4);
  const auto big = pattern(300);
  const auto ok = pattern(80);
  const std::vector<Transmit> batch = {to(rx.local_address(), big), to(rx.local_address(), ok)};
  ASSERT_TRUE(tx.send(batch).ok());
  ReceiveBatch small(4, 100);
  const auto got = receive_n(rx, 1, small);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, ok);
  EXPECT_EQ(rx.stats().receive_dropped, 1u);
}

TEST(UdpSocket, ReceiveOnEmptySocketReturnsZero) {
  auto rx = open_or_die(kV4);
  ReceiveBatch rb(2, 2048);
  EXPECT_EQ(rx.receive(rb), 0u);
  EXPECT_EQ(rb.error(), 0);
  EXPECT_TRUE(rb.empty());
}

TEST(UdpSocket, ReceiveErrorIsReported) {
  auto rx = open_or_die(kV4);
  rx.close();
  ReceiveBatch rb(2, 2048);
  EXPECT_EQ(rx.receive(rb), 0u);
  EXPECT_EQ(rb.error(), EBADF);
}

TEST(UdpSocket, MoveKeepsTheSocket) {
  auto a = open_or_die(kV4);
  const int fd = a.fd();
  const auto addr = a.local_address();
  UdpSocket b = std::move(a);
  EXPECT_EQ(b.fd(), fd);
  EXPECT_EQ(b.local_address(), addr);
  EXPECT_EQ(a.fd(), -1);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  auto rx = open_or_die(kV4);
  const auto data = pattern(10);
  const Transmit t = to(rx.local_address(), data);
  EXPECT_TRUE(b.send({&t, 1}).ok());
  ReceiveBatch rb;
  EXPECT_EQ(receive_n(rx, 1, rb).size(), 1u);
}

}  // namespace
}  // namespace roam::io
