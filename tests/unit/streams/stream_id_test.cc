#include "streams/stream_id.h"

#include <gtest/gtest.h>

namespace roam::streams {
namespace {

// RFC 9000 table 1: the two low bits name the stream type.
struct TypeRow {
  std::uint64_t id;
  Side initiator;
  Direction dir;
};
constexpr TypeRow kTypes[] = {
    {0x00, Side::kClient, Direction::kBidi},
    {0x01, Side::kServer, Direction::kBidi},
    {0x02, Side::kClient, Direction::kUni},
    {0x03, Side::kServer, Direction::kUni},
};

TEST(StreamId, TypeBitsFollowRfcTable) {
  for (const auto& row : kTypes) {
    for (std::uint64_t index : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{7}, std::uint64_t{1000}, kMaxStreamCount - 1}) {
      const StreamId id{index * 4 + row.id};
      EXPECT_EQ(initiator(id), row.initiator) << id.value;
      EXPECT_EQ(direction(id), row.dir) << id.value;
      EXPECT_EQ(stream_index(id), index) << id.value;
      EXPECT_EQ(make_stream_id(row.initiator, row.dir, index), id);
    }
  }
  EXPECT_EQ(make_stream_id(Side::kServer, Direction::kUni, kMaxStreamCount - 1).value, kMaxStreamId);
}

TEST(StreamId, ServerUniLimitOfThreeAllowsStreams3_7_11) {
  // RFC 9000 19.11: a server that receives a unidirectional limit of 3 may open 3, 7 and 11.
  EXPECT_EQ(make_stream_id(Side::kServer, Direction::kUni, 0).value, 3u);
  EXPECT_EQ(make_stream_id(Side::kServer, Direction::kUni, 1).value, 7u);
  EXPECT_EQ(make_stream_id(Side::kServer, Direction::kUni, 2).value, 11u);
  EXPECT_EQ(stream_index(StreamId{15}), 3u);  // index 3 is the fourth stream: beyond a limit of 3
}

TEST(StreamId, PartsDependOnSideAndDirection) {
  const StreamId client_bidi{0}, server_bidi{1}, client_uni{2}, server_uni{3};
  for (Side self : {Side::kClient, Side::kServer}) {
    EXPECT_TRUE(has_send_part(client_bidi, self));
    EXPECT_TRUE(has_recv_part(client_bidi, self));
    EXPECT_TRUE(has_send_part(server_bidi, self));
    EXPECT_TRUE(has_recv_part(server_bidi, self));
  }
  EXPECT_TRUE(has_send_part(client_uni, Side::kClient));
  EXPECT_FALSE(has_recv_part(client_uni, Side::kClient));
  EXPECT_FALSE(has_send_part(client_uni, Side::kServer));
  EXPECT_TRUE(has_recv_part(client_uni, Side::kServer));
  EXPECT_FALSE(has_send_part(server_uni, Side::kClient));
  EXPECT_TRUE(has_recv_part(server_uni, Side::kClient));
  EXPECT_TRUE(is_local(client_uni, Side::kClient));
  EXPECT_FALSE(is_local(client_uni, Side::kServer));
  EXPECT_EQ(peer_of(Side::kClient), Side::kServer);
  EXPECT_EQ(peer_of(Side::kServer), Side::kClient);
}

}  // namespace
}  // namespace roam::streams
