// The backend's side of load balancing, without sockets: GSO batches behind encapsulation
// headers, the table of which load balancer answers go through, and the worker CID generator of a
// multi-worker server without a QUIC-LB config.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "common/random.h"
#include "lb/encap.h"
#include "lb/return_paths.h"
#include "lb/worker_cid.h"

namespace roam::lb {
namespace {

const SocketAddress kClient4 = *SocketAddress::parse("198.51.100.7:50000");
const SocketAddress kListen4 = *SocketAddress::parse("203.0.113.1:443");
const SocketAddress kClient6 = *SocketAddress::parse("[2001:db8::7]:50000");
const SocketAddress kListen6 = *SocketAddress::parse("[2001:db8::1]:443");

// `count` segments of `seg` octets (the last `last` octets), each filled with its own pattern.
std::vector<std::uint8_t> segments(std::size_t count, std::size_t seg, std::size_t last) {
  std::vector<std::uint8_t> v;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t n = i + 1 == count ? last : seg;
    for (std::size_t j = 0; j < n; ++j) v.push_back(static_cast<std::uint8_t>(i * 37 + j * 7 + 1));
  }
  return v;
}

void check_batch(const EncapHeader& h, std::size_t count, std::size_t seg, std::size_t last) {
  SCOPED_TRACE(testing::Message() << count << " x " << seg << " (last " << last << ")");
  const auto original = segments(count, seg, last);
  const std::size_t hs = encap_header_size(h);
  std::vector<std::uint8_t> buf(original.size() + count * hs, 0xee);
  std::copy(original.begin(), original.end(), buf.begin());
  auto r = encapsulate_segments(h, buf, original.size(), count > 1 ? seg : 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, original.size() + count * hs);
  EXPECT_EQ(r->segment_size, count > 1 ? seg + hs : 0u);
  // Cut the result as the kernel's GSO would, and decode each datagram on its own.
  const std::size_t stride = count > 1 ? r->segment_size : r->size;
  std::size_t from = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t n = std::min(stride, r->size - i * stride);
    auto d = decode_encap(Bytes(buf.data() + i * stride, n));
    ASSERT_TRUE(d.ok()) << i;
    EXPECT_EQ(d->header, h);
    const std::size_t want = i + 1 == count ? last : seg;
    ASSERT_EQ(d->payload.size(), want) << i;
    EXPECT_TRUE(std::equal(d->payload.begin(), d->payload.end(), original.begin() + from)) << i;
    from += want;
  }
}

TEST(EncapsulateSegments, EveryGsoSegmentGetsItsOwnHeader) {
  for (const EncapHeader& h : {EncapHeader{kClient4, kListen4}, EncapHeader{kClient6, kListen6},
                               EncapHeader{kClient6, kListen4}}) {
    check_batch(h, 1, 1200, 1200);   // one datagram
    check_batch(h, 1, 1200, 37);     // one short datagram
    check_batch(h, 2, 1200, 1200);   // equal segments
    check_batch(h, 10, 1452, 300);   // a short last segment
    check_batch(h, 32, 1472, 1472);  // the driver's largest batch
    check_batch(h, 3, 1, 1);         // tiny segments, larger than the header moves
  }
}

TEST(EncapsulateSegments, RefusesABufferWithoutRoomAndLeavesItAlone) {
  const EncapHeader h{kClient4, kListen4};
  const auto original = segments(4, 100, 50);
  std::vector<std::uint8_t> buf(original.size() + 4 * 14 - 1);
  std::copy(original.begin(), original.end(), buf.begin());
  const auto before = buf;
  EXPECT_FALSE(encapsulate_segments(h, buf, original.size(), 100).ok());
  EXPECT_EQ(buf, before);
  EXPECT_FALSE(encapsulate_segments(h, MutBytes(buf.data(), 10), 20, 0).ok());  // size past the buffer
}

TEST(EncapsulateSegments, ASegmentSizeAtOrAboveTheSizeMeansOneDatagram) {
  const EncapHeader h{kClient4, kListen4};
  std::vector<std::uint8_t> buf(200, 0x11);
  auto r = encapsulate_segments(h, buf, 100, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 114u);
  EXPECT_EQ(r->segment_size, 0u);
  auto d = decode_encap(Bytes(buf.data(), r->size));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->payload.size(), 100u);
}

TEST(ReturnPaths, AnswersGoThroughTheLoadBalancerTheClientCameThroughLast) {
  const SocketAddress lb1 = *SocketAddress::parse("10.0.1.1:7000");
  const SocketAddress lb2 = *SocketAddress::parse("10.0.2.1:7000");
  const SocketAddress local = *SocketAddress::parse("10.0.9.1:4433");
  ReturnPaths rp({lb1, lb2});
  EXPECT_EQ(rp.lb_index(lb1), std::optional<std::size_t>(0));
  EXPECT_EQ(rp.lb_index(lb2), std::optional<std::size_t>(1));
  EXPECT_EQ(rp.lb_index(lb2.with_port(7001)), std::nullopt);
  EXPECT_EQ(rp.find(kListen4, kClient4), nullptr);

  const Instant t0{};
  rp.record(kListen4, kClient4, 0, local, t0);
  ASSERT_NE(rp.find(kListen4, kClient4), nullptr);
  EXPECT_EQ(rp.find(kListen4, kClient4)->lb, 0u);
  EXPECT_EQ(rp.find(kListen4, kClient4)->local, local);
  rp.record(kListen4, kClient4, 1, local, t0 + std::chrono::seconds(1));  // ECMP moved it
  EXPECT_EQ(rp.find(kListen4, kClient4)->lb, 1u);
  EXPECT_EQ(rp.size(), 1u);
  // Another client port (a NAT rebinding) or another listen address is another pair.
  EXPECT_EQ(rp.find(kListen4, kClient4.with_port(50001)), nullptr);
  EXPECT_EQ(rp.find(kListen4.with_port(8443), kClient4), nullptr);
  rp.record(kListen4, kClient4.with_port(50001), 0, local, t0 + std::chrono::seconds(2));
  rp.record(kListen6, kClient6, 0, local, t0 + std::chrono::seconds(3));
  EXPECT_EQ(rp.size(), 3u);
}

TEST(ReturnPaths, PruneForgetsOnlyOldPairsNoConnectionUses) {
  ReturnPaths rp({*SocketAddress::parse("10.0.1.1:7000")});
  const Instant t0{};
  const SocketAddress local = *SocketAddress::parse("10.0.9.1:4433");
  rp.record(kListen4, kClient4, 0, local, t0);                                        // old, in use
  rp.record(kListen4, kClient4.with_port(2), 0, local, t0);                           // old, unused
  rp.record(kListen4, kClient4.with_port(3), 0, local, t0 + std::chrono::seconds(60));  // recent
  const auto in_use = [&](const SocketAddress& l, const SocketAddress& c) { return l == kListen4 && c == kClient4; };
  EXPECT_EQ(rp.prune(t0 + std::chrono::seconds(30), in_use), 1u);
  EXPECT_NE(rp.find(kListen4, kClient4), nullptr);
  EXPECT_EQ(rp.find(kListen4, kClient4.with_port(2)), nullptr);
  EXPECT_NE(rp.find(kListen4, kClient4.with_port(3)), nullptr);
  EXPECT_EQ(rp.prune(t0 + std::chrono::seconds(90), [](const auto&, const auto&) { return false; }), 2u);
  EXPECT_EQ(rp.size(), 0u);
}

TEST(WorkerCidGenerator, TheLastOctetNamesTheWorkerTheRestIsRandom) {
  SeededRandom rng(7);
  auto g = WorkerCidGenerator::create(8, 5);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->length(), 8u);
  EXPECT_EQ(g->worker_offset(), 7u);
  std::set<std::vector<std::uint8_t>> seen;
  for (int i = 0; i < 1000; ++i) {
    const ConnectionId cid = g->generate(rng);
    ASSERT_EQ(cid.size(), 8u);
    EXPECT_EQ(cid.data()[7], 5);
    EXPECT_EQ(g->worker_of(Bytes(cid.data(), cid.size())), std::optional<std::uint8_t>(5));
    seen.insert(std::vector<std::uint8_t>(cid.data(), cid.data() + 7));
  }
  EXPECT_EQ(seen.size(), 1000u);  // 56 random bits: no repeats in a thousand
  const std::uint8_t shorter[] = {1, 2, 3, 5};
  EXPECT_EQ(g->worker_of(shorter), std::nullopt);
}

TEST(WorkerCidGenerator, RefusesLengthsOutsideTheRange) {
  EXPECT_FALSE(WorkerCidGenerator::create(3, 0).ok());
  EXPECT_FALSE(WorkerCidGenerator::create(21, 0).ok());
  EXPECT_TRUE(WorkerCidGenerator::create(4, 255).ok());
  EXPECT_TRUE(WorkerCidGenerator::create(20, 0).ok());
}

}  // namespace
}  // namespace roam::lb
