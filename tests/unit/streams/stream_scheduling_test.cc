// StreamManager's packet-builder side: credit update points, blocked signals, loss handling of
// control frames, and the round robin over streams.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "manager_harness.h"
#include "streams/stream_manager.h"
#include "test_util.h"

namespace roam::streams {
namespace {

using test::config;
using test::limits;
using test::pattern;

constexpr Instant kNow{};

struct Mgr : StreamManager {
  Mgr(Side side, const StreamLimits& local, const StreamLimits& peer) : StreamManager(config(side, local)) {
    EXPECT_TRUE(set_peer_limits(peer));
  }
};

std::vector<ControlFrame> pop_all(StreamManager& m) {
  std::vector<ControlFrame> out;
  while (auto f = m.pop_control_frame(1000, kNow)) out.push_back(*f);
  return out;
}

std::size_t read_all(StreamManager& m, StreamId id) {
  std::vector<std::uint8_t> buf(1 << 16);
  std::size_t total = 0;
  while (true) {
    auto r = m.read(id, buf);
    if (!r || r->bytes == 0) return total;
    total += r->bytes;
  }
}

TEST(StreamScheduling, CreditUpdatesWhenHalfTheWindowIsConsumed) {
  // Our windows: 4000 per stream, 10000 for the connection.
  Mgr server(Side::kServer, limits(10000, 4000, 10), limits(1 << 20, 1 << 20, 10));
  ASSERT_TRUE(server.on_stream_frame(StreamId{0}, 0, pattern(0, 3000), false));
  ASSERT_TRUE(server.on_stream_frame(StreamId{4}, 0, pattern(0, 3000), false));
  std::vector<std::uint8_t> buf(1999);
  ASSERT_EQ(server.read(StreamId{0}, buf)->bytes, 1999u);
  EXPECT_FALSE(server.has_control_frames());  // 2001 of 4000 left on stream 0
  buf.resize(1);
  ASSERT_EQ(server.read(StreamId{0}, buf)->bytes, 1u);  // 2000 left: half the window
  EXPECT_EQ(pop_all(server), (std::vector<ControlFrame>{MaxStreamDataFrame{StreamId{0}, 6000}}));
  ASSERT_EQ(read_all(server, StreamId{0}), 1000u);
  EXPECT_FALSE(server.has_control_frames());  // 6000 - 3000 = 3000 left: not yet
  ASSERT_EQ(read_all(server, StreamId{4}), 3000u);  // connection: 6000 of 10000 consumed
  EXPECT_EQ(pop_all(server), (std::vector<ControlFrame>{MaxDataFrame{16000}, MaxStreamDataFrame{StreamId{4}, 7000}}));
  EXPECT_EQ(server.connection_recv_flow().limit(), 16000u);
}

TEST(StreamScheduling, LostCreditUpdatesAreResentOnlyIfNotSuperseded) {
  Mgr server(Side::kServer, limits(10000, 100000, 10), limits(1 << 20, 1 << 20, 10));
  ASSERT_TRUE(server.on_stream_frame(StreamId{2}, 0, pattern(0, 6000), false));
  ASSERT_EQ(read_all(server, StreamId{2}), 6000u);
  const auto first = pop_all(server);
  ASSERT_EQ(first, (std::vector<ControlFrame>{MaxDataFrame{16000}}));
  ASSERT_TRUE(server.on_stream_frame(StreamId{2}, 6000, pattern(6000, 6000), false));
  ASSERT_EQ(read_all(server, StreamId{2}), 6000u);
  const auto second = pop_all(server);
  ASSERT_EQ(second, (std::vector<ControlFrame>{MaxDataFrame{22000}}));
  server.on_control_frame_lost(first[0]);  // superseded by 22000
  EXPECT_FALSE(server.has_control_frames());
  server.on_control_frame_lost(second[0]);
  EXPECT_EQ(pop_all(server), second);
}

TEST(StreamScheduling, LostMaxStreamDataIsNotResentOnceTheFinIsIn) {
  Mgr server(Side::kServer, limits(1 << 20, 1000, 10), limits(1 << 20, 1 << 20, 10));
  ASSERT_TRUE(server.on_stream_frame(StreamId{2}, 0, pattern(0, 600), false));
  ASSERT_EQ(read_all(server, StreamId{2}), 600u);
  const auto msd = pop_all(server);
  ASSERT_EQ(msd, (std::vector<ControlFrame>{MaxStreamDataFrame{StreamId{2}, 1600}}));
  server.on_control_frame_lost(msd[0]);
  EXPECT_EQ(pop_all(server), msd);  // still the latest, still in Recv
  ASSERT_TRUE(server.on_stream_frame(StreamId{2}, 600, pattern(600, 10), true));
  server.on_control_frame_lost(msd[0]);
  EXPECT_FALSE(server.has_control_frames());  // Size Known: the peer needs no more credit
}

TEST(StreamScheduling, DataBlockedOncePerConnectionLimit) {
  Mgr client(Side::kClient, limits(1 << 20, 1 << 20, 10), limits(1000, 1 << 20, 10));
  const StreamId id = *client.open_stream(Direction::kBidi);
  ASSERT_TRUE(client.write(id, pattern(0, 3000)));
  std::uint64_t sent = 0;
  while (auto f = client.next_stream_frame(400)) sent += f->data.size();
  EXPECT_EQ(sent, 1000u);
  const auto blocked = pop_all(client);
  ASSERT_EQ(blocked, (std::vector<ControlFrame>{DataBlockedFrame{1000}}));
  ASSERT_TRUE(client.write(id, pattern(3000, 100)));
  EXPECT_FALSE(client.next_stream_frame(400));
  EXPECT_FALSE(client.has_control_frames());  // reported once for this limit
  client.on_control_frame_lost(blocked[0]);
  EXPECT_EQ(pop_all(client), blocked);  // still blocked there: resent
  client.on_max_data(2000);
  EXPECT_TRUE(client.has_stream_data());
  while (client.next_stream_frame(400)) {
  }
  EXPECT_EQ(client.connection_send_flow().used(), 2000u);
  EXPECT_EQ(pop_all(client), (std::vector<ControlFrame>{DataBlockedFrame{2000}}));
  client.on_control_frame_lost(blocked[0]);  // about the old limit: irrelevant now
  EXPECT_FALSE(client.has_control_frames());
}

TEST(StreamScheduling, StreamDataBlockedOncePerStreamLimit) {
  Mgr client(Side::kClient, limits(1 << 20, 1 << 20, 10), limits(1 << 20, 500, 10));
  const StreamId id = *client.open_stream(Direction::kUni);
  ASSERT_TRUE(client.write(id, pattern(0, 3000)));
  std::uint64_t sent = 0;
  while (auto f = client.next_stream_frame(1200)) sent += f->data.size();
  EXPECT_EQ(sent, 500u);
  const auto blocked = pop_all(client);
  ASSERT_EQ(blocked, (std::vector<ControlFrame>{StreamDataBlockedFrame{id, 500}}));
  ASSERT_TRUE(client.write(id, pattern(3000, 10)));
  EXPECT_FALSE(client.has_control_frames());
  client.on_control_frame_lost(blocked[0]);
  EXPECT_EQ(pop_all(client), blocked);
  ASSERT_TRUE(client.on_max_stream_data(id, 400));  // smaller: ignored
  EXPECT_FALSE(client.has_stream_data());
  ASSERT_TRUE(client.on_max_stream_data(id, 1500));
  EXPECT_TRUE(client.has_stream_data());
  client.on_control_frame_lost(blocked[0]);
  EXPECT_FALSE(client.has_control_frames());
}

TEST(StreamScheduling, BlockedStreamDoesNotHoldUpOthers) {
  Mgr client(Side::kClient, limits(1 << 20, 1 << 20, 10), limits(1 << 20, 500, 10));
  const StreamId a = *client.open_stream(Direction::kUni);
  const StreamId b = *client.open_stream(Direction::kUni);
  ASSERT_TRUE(client.write(a, pattern(0, 3000)));
  ASSERT_TRUE(client.write(b, pattern(0, 300)));
  std::map<std::uint64_t, std::uint64_t> per_stream;
  while (auto f = client.next_stream_frame(200)) per_stream[f->id.value] += f->data.size();
  EXPECT_EQ(per_stream[a.value], 500u);
  EXPECT_EQ(per_stream[b.value], 300u);
}

TEST(StreamScheduling, RoundRobinIsFairAcrossStreams) {
  Mgr client(Side::kClient, limits(1 << 20, 1 << 20, 10), limits(1 << 24, 1 << 24, 10));
  std::vector<StreamId> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(*client.open_stream(Direction::kBidi));
    ASSERT_TRUE(client.write(ids.back(), pattern(0, 100000)));
  }
  const StreamId small = *client.open_stream(Direction::kBidi);
  ASSERT_TRUE(client.write(small, pattern(0, 100), true));
  std::vector<std::uint64_t> order;
  std::map<std::uint64_t, std::uint64_t> bytes;
  for (int i = 0; i < 40; ++i) {
    auto f = client.next_stream_frame(1200);
    ASSERT_TRUE(f);
    order.push_back(f->id.value);
    bytes[f->id.value] += f->data.size();
  }
  // Each of the big streams fills its frame and goes to the back; the small one is done at once.
  EXPECT_EQ((std::vector<std::uint64_t>(order.begin(), order.begin() + 8)),
            (std::vector<std::uint64_t>{0, 4, 8, 12, 0, 4, 8, 0}));
  EXPECT_EQ(bytes[12], 100u);
  EXPECT_EQ(std::count(order.begin(), order.end(), 0u), 13);
  EXPECT_EQ(std::count(order.begin(), order.end(), 4u), 13);
  EXPECT_EQ(std::count(order.begin(), order.end(), 8u), 13);
  // Byte shares differ by at most the offset-encoding difference.
  EXPECT_NEAR(static_cast<double>(bytes[0]), static_cast<double>(bytes[8]), 13 * 2);
}

TEST(StreamScheduling, RetransmissionsComeBeforeNewData) {
  Mgr client(Side::kClient, limits(1 << 20, 1 << 20, 10), limits(1 << 24, 1 << 24, 10));
  const StreamId a = *client.open_stream(Direction::kBidi);
  const StreamId b = *client.open_stream(Direction::kBidi);
  ASSERT_TRUE(client.write(a, pattern(0, 10000)));
  ASSERT_TRUE(client.write(b, pattern(0, 10000)));
  auto fa = client.next_stream_frame(1000);
  auto fb = client.next_stream_frame(1000);
  ASSERT_TRUE(fa && fb);
  ASSERT_EQ(fa->id, a);
  const std::uint64_t a_len = fa->data.size();
  const std::uint64_t used = client.connection_send_flow().used();
  client.on_stream_data_lost(a, 0, a_len, false);
  auto f = client.next_stream_frame(1000);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->id, a);
  EXPECT_EQ(f->offset, 0u);
  EXPECT_EQ(f->data.size(), a_len);
  EXPECT_EQ(client.connection_send_flow().used(), used);  // no new credit for resent bytes
  f = client.next_stream_frame(1000);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->offset, a_len);  // round robin resumes with new data
}

TEST(StreamScheduling, RetransmissionsIgnoreConnectionCredit) {
  Mgr client(Side::kClient, limits(1 << 20, 1 << 20, 10), limits(1000, 1 << 20, 10));
  const StreamId a = *client.open_stream(Direction::kBidi);
  ASSERT_TRUE(client.write(a, pattern(0, 5000)));
  while (client.next_stream_frame(600)) {
  }
  EXPECT_EQ(client.connection_send_flow().credit(), 0u);
  client.on_stream_data_lost(a, 0, 500, false);
  EXPECT_TRUE(client.has_stream_data());
  auto f = client.next_stream_frame(600);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->offset, 0u);
  EXPECT_EQ(f->data.size(), 500u);
}

TEST(StreamScheduling, FramesFitTheRoomExactly) {
  Mgr client(Side::kClient, limits(1 << 20, 1 << 20, 10), limits(1 << 24, 1 << 24, 10));
  const StreamId a = *client.open_stream(Direction::kBidi);
  ASSERT_TRUE(client.write(a, pattern(0, 100000)));
  for (std::size_t room : {1200u, 1350u, 70u, 7u, 1452u}) {
    auto f = client.next_stream_frame(room);
    ASSERT_TRUE(f);
    EXPECT_EQ(test::stream_frame_size(*f), room) << room;
    EXPECT_TRUE(test::matches_pattern(f->offset, f->data));
  }
  EXPECT_FALSE(client.next_stream_frame(3));  // type + ID + offset + length do not fit
}

TEST(StreamScheduling, FinOnlyFrameNeedsNoCredit) {
  Mgr client(Side::kClient, limits(1 << 20, 1 << 20, 10), limits(100, 1 << 20, 10));
  const StreamId a = *client.open_stream(Direction::kUni);
  ASSERT_TRUE(client.write(a, pattern(0, 100)));
  auto f = client.next_stream_frame(1000);
  ASSERT_TRUE(f);
  EXPECT_EQ(client.connection_send_flow().credit(), 0u);
  EXPECT_FALSE(client.has_stream_data());
  ASSERT_TRUE(client.write(a, {}, true));
  EXPECT_TRUE(client.has_stream_data());
  f = client.next_stream_frame(1000);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->fin);
  EXPECT_TRUE(f->data.empty());
  EXPECT_EQ(f->offset, 100u);
}

}  // namespace
}  // namespace roam::streams
