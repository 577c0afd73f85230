// StreamManager: opening and accepting streams, the error cases of RFC 9000 sections 3, 4 and 19,
// STOP_SENDING / RESET_STREAM, and the application API.
#include "streams/stream_manager.h"

#include <gtest/gtest.h>

#include <vector>

#include "manager_harness.h"
#include "test_util.h"

namespace roam::streams {
namespace {

using test::config;
using test::drain_events;
using test::limits;
using test::pattern;

constexpr Instant kNow{};
using Kind = StreamEvent::Kind;

// A manager with our limits as given and generous peer limits already known.
struct Mgr : StreamManager {
  explicit Mgr(Side side, std::uint64_t max_data = 1 << 20, std::uint64_t window = 64 * 1024,
               std::uint64_t max_streams = 10)
      : StreamManager(config(side, limits(max_data, window, max_streams))) {
    EXPECT_TRUE(set_peer_limits(limits(1 << 20, 64 * 1024, 10)));
  }
};

void expect_error(const Status& s, TransportError code, std::uint64_t frame_type) {
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, code) << s.error().reason;
  EXPECT_EQ(s.error().frame_type, frame_type) << s.error().reason;
}

TEST(StreamManager, LocalStreamIdsFollowTheSideAndDirection) {
  Mgr client(Side::kClient);
  EXPECT_EQ(client.open_stream(Direction::kBidi)->value, 0u);
  EXPECT_EQ(client.open_stream(Direction::kBidi)->value, 4u);
  EXPECT_EQ(client.open_stream(Direction::kUni)->value, 2u);
  EXPECT_EQ(client.open_stream(Direction::kUni)->value, 6u);
  Mgr server(Side::kServer);
  EXPECT_EQ(server.open_stream(Direction::kBidi)->value, 1u);
  EXPECT_EQ(server.open_stream(Direction::kUni)->value, 3u);
  EXPECT_EQ(server.open_stream(Direction::kUni)->value, 7u);
}

TEST(StreamManager, PeerStreamLimitStopsOpeningAndQueuesStreamsBlocked) {
  StreamManager m(config(Side::kClient, limits(1 << 20, 1000, 10)));
  auto r = m.open_stream(Direction::kBidi);  // no transport parameters yet: limit 0
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, TransportError::kStreamLimitError);
  ASSERT_TRUE(m.set_peer_limits(limits(1 << 20, 1000, 2)));
  ASSERT_TRUE(m.open_stream(Direction::kBidi));
  ASSERT_TRUE(m.open_stream(Direction::kBidi));
  r = m.open_stream(Direction::kBidi);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, TransportError::kStreamLimitError);
  auto f = m.pop_control_frame(100, kNow);
  ASSERT_TRUE(f);
  EXPECT_EQ(std::get<StreamsBlockedFrame>(*f), (StreamsBlockedFrame{Direction::kBidi, 2}));
  EXPECT_FALSE(m.open_stream(Direction::kBidi));
  EXPECT_FALSE(m.pop_control_frame(100, kNow));  // once per limit
  ASSERT_TRUE(m.on_max_streams(Direction::kBidi, 1));  // smaller: ignored
  EXPECT_FALSE(m.open_stream(Direction::kBidi));
  ASSERT_TRUE(m.on_max_streams(Direction::kBidi, 3));
  EXPECT_EQ(m.open_stream(Direction::kBidi)->value, 8u);
  EXPECT_FALSE(m.open_stream(Direction::kBidi));
  f = m.pop_control_frame(100, kNow);
  ASSERT_TRUE(f);
  EXPECT_EQ(std::get<StreamsBlockedFrame>(*f), (StreamsBlockedFrame{Direction::kBidi, 3}));
  // Lost while still blocked at 3: resent; after new credit: not.
  m.on_control_frame_lost(*f);
  EXPECT_TRUE(m.has_control_frames());
  ASSERT_TRUE(m.pop_control_frame(100, kNow));
  ASSERT_TRUE(m.on_max_streams(Direction::kBidi, 4));
  m.on_control_frame_lost(*f);
  EXPECT_FALSE(m.has_control_frames());
  // The uni limit is separate.
  EXPECT_TRUE(m.open_stream(Direction::kUni));
}

TEST(StreamManager, PeerStreamOpensAllLowerNumberedStreamsOfItsType) {
  Mgr server(Side::kServer);
  ASSERT_TRUE(server.on_stream_frame(StreamId{8}, 0, pattern(0, 10), false));
  EXPECT_EQ(drain_events(server), (std::vector<StreamEvent>{{Kind::kOpened, StreamId{0}, 0},
                                                             {Kind::kOpened, StreamId{4}, 0},
                                                             {Kind::kOpened, StreamId{8}, 0},
                                                             {Kind::kReadable, StreamId{8}, 0}}));
  EXPECT_EQ(server.stream_count(), 3u);
  EXPECT_EQ(server.peer_streams_opened(Direction::kBidi), 3u);
  ASSERT_TRUE(server.on_stream_frame(StreamId{4}, 0, pattern(0, 10), false));
  EXPECT_EQ(drain_events(server), (std::vector<StreamEvent>{{Kind::kReadable, StreamId{4}, 0}}));
  // Frames that open a stream: MAX_STREAM_DATA / STOP_SENDING on a bidi stream, STREAM_DATA_BLOCKED.
  ASSERT_TRUE(server.on_max_stream_data(StreamId{12}, 5000));
  ASSERT_TRUE(server.on_stream_data_blocked(StreamId{2}, 0));
  EXPECT_EQ(drain_events(server), (std::vector<StreamEvent>{{Kind::kOpened, StreamId{12}, 0},
                                                             {Kind::kOpened, StreamId{2}, 0}}));
}

TEST(StreamManager, PeerStreamsBeyondOurLimitAreStreamLimitErrors) {
  Mgr server(Side::kServer);  // 10 of each type
  ASSERT_TRUE(server.on_stream_frame(StreamId{9 * 4}, 0, {}, false));
  expect_error(server.on_stream_frame(StreamId{10 * 4}, 0, {}, false), TransportError::kStreamLimitError, 0x08);
  expect_error(server.on_reset_stream(StreamId{10 * 4 + 2}, 0, 0), TransportError::kStreamLimitError, 0x04);
  expect_error(server.on_stop_sending(StreamId{10 * 4}, 0), TransportError::kStreamLimitError, 0x05);
}

TEST(StreamManager, FramesInTheWrongDirectionAreStreamStateErrors) {
  Mgr server(Side::kServer);
  ASSERT_TRUE(server.open_stream(Direction::kUni));  // stream 3: send-only for us
  const StreamId own_uni{3}, peer_uni{2};
  expect_error(server.on_stream_frame(own_uni, 0, pattern(0, 5), false), TransportError::kStreamStateError, 0x08);
  expect_error(server.on_reset_stream(own_uni, 0, 0), TransportError::kStreamStateError, 0x04);
  expect_error(server.on_stream_data_blocked(own_uni, 0), TransportError::kStreamStateError, 0x15);
  expect_error(server.on_max_stream_data(peer_uni, 100), TransportError::kStreamStateError, 0x11);
  expect_error(server.on_stop_sending(peer_uni, 0), TransportError::kStreamStateError, 0x05);
  // The same checks hold for streams that do not exist yet.
  expect_error(server.on_stream_frame(StreamId{7}, 0, {}, false), TransportError::kStreamStateError, 0x08);
  expect_error(server.on_max_stream_data(StreamId{6}, 100), TransportError::kStreamStateError, 0x11);
}

TEST(StreamManager, FramesForLocalStreamsNotYetOpenedAreStreamStateErrors) {
  Mgr server(Side::kServer);
  ASSERT_TRUE(server.open_stream(Direction::kBidi));  // stream 1
  ASSERT_TRUE(server.on_stream_frame(StreamId{1}, 0, pattern(0, 5), false));
  expect_error(server.on_stream_frame(StreamId{5}, 0, pattern(0, 5), false), TransportError::kStreamStateError,
               0x08);
  expect_error(server.on_max_stream_data(StreamId{5}, 10), TransportError::kStreamStateError, 0x11);
  expect_error(server.on_stop_sending(StreamId{5}, 0), TransportError::kStreamStateError, 0x05);
  expect_error(server.on_reset_stream(StreamId{5}, 0, 0), TransportError::kStreamStateError, 0x04);
}

TEST(StreamManager, StreamFlowControlViolation) {
  Mgr server(Side::kServer, 1 << 20, 1000);
  ASSERT_TRUE(server.on_stream_frame(StreamId{0}, 0, pattern(0, 1000), false));
  expect_error(server.on_stream_frame(StreamId{0}, 1000, pattern(1000, 1), false),
               TransportError::kFlowControlError, 0x08);
  expect_error(server.on_reset_stream(StreamId{4}, 0, 1001), TransportError::kFlowControlError, 0x04);
}

TEST(StreamManager, ConnectionFlowControlCountsHighestOffsetsOfAllStreams) {
  Mgr server(Side::kServer, 10000, 8000);
  ASSERT_TRUE(server.on_stream_frame(StreamId{0}, 0, pattern(0, 6000), false));
  // Out-of-order data counts by its highest offset, holes included.
  ASSERT_TRUE(server.on_stream_frame(StreamId{4}, 3900, pattern(3900, 100), false));
  EXPECT_EQ(server.connection_recv_flow().received(), 10000u);
  ASSERT_TRUE(server.on_stream_frame(StreamId{4}, 0, pattern(0, 4000), false));  // fills the hole: no growth
  expect_error(server.on_stream_frame(StreamId{8}, 0, pattern(0, 1), false), TransportError::kFlowControlError,
               0x08);
  expect_error(server.on_reset_stream(StreamId{8}, 0, 1), TransportError::kFlowControlError, 0x04);
  ASSERT_TRUE(server.on_reset_stream(StreamId{8}, 0, 0));
}

TEST(StreamManager, ResetFinalSizeCountsAgainstConnectionCredit) {
  Mgr server(Side::kServer, 10000, 8000);
  ASSERT_TRUE(server.on_stream_frame(StreamId{0}, 0, pattern(0, 100), false));
  ASSERT_TRUE(server.on_reset_stream(StreamId{0}, 1, 7000));
  EXPECT_EQ(server.connection_recv_flow().received(), 7000u);
  expect_error(server.on_stream_frame(StreamId{4}, 0, pattern(0, 3001), false), TransportError::kFlowControlError,
               0x08);
}

TEST(StreamManager, FinalSizeErrors) {
  Mgr server(Side::kServer);
  ASSERT_TRUE(server.on_stream_frame(StreamId{0}, 0, pattern(0, 100), true));
  expect_error(server.on_reset_stream(StreamId{0}, 0, 200), TransportError::kFinalSizeError, 0x04);
  expect_error(server.on_stream_frame(StreamId{0}, 100, pattern(100, 1), false), TransportError::kFinalSizeError,
               0x08);
  expect_error(server.on_stream_frame(StreamId{0}, 0, pattern(0, 50), true), TransportError::kFinalSizeError, 0x08);
  ASSERT_TRUE(server.on_stream_frame(StreamId{4}, 0, pattern(0, 500), false));
  expect_error(server.on_stream_frame(StreamId{4}, 0, pattern(0, 400), true), TransportError::kFinalSizeError,
               0x08);
}

TEST(StreamManager, StreamCountsBeyondTwoToTheSixtyAreEncodingErrors) {
  Mgr m(Side::kClient);
  expect_error(m.on_max_streams(Direction::kBidi, (1ull << 60) + 1), TransportError::kFrameEncodingError, 0x12);
  expect_error(m.on_max_streams(Direction::kUni, (1ull << 60) + 1), TransportError::kFrameEncodingError, 0x13);
  expect_error(m.on_streams_blocked(Direction::kUni, (1ull << 60) + 1), TransportError::kFrameEncodingError, 0x17);
  EXPECT_TRUE(m.on_max_streams(Direction::kBidi, 1ull << 60));
  auto s = m.set_peer_limits(limits(0, 0, (1ull << 60) + 1));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, TransportError::kTransportParameterError);
}

TEST(StreamManager, FramesForClosedStreamsAreIgnored) {
  Mgr server(Side::kServer);
  ASSERT_TRUE(server.on_stream_frame(StreamId{2}, 0, pattern(0, 10), true));
  std::vector<std::uint8_t> buf(100);
  auto r = server.read(StreamId{2}, buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 10u);
  EXPECT_TRUE(r->fin);
  EXPECT_FALSE(server.exists(StreamId{2}));  // receive-only stream fully read: freed
  drain_events(server);
  ASSERT_TRUE(server.on_stream_frame(StreamId{2}, 0, pattern(0, 10), true));
  ASSERT_TRUE(server.on_reset_stream(StreamId{2}, 0, 10));
  ASSERT_TRUE(server.on_stream_data_blocked(StreamId{2}, 10));
  EXPECT_EQ(server.stream_count(), 0u);
  EXPECT_TRUE(drain_events(server).empty());
  // And the application gets a clear error.
  auto again = server.read(StreamId{2}, buf);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().reason, "stream is closed");
}

TEST(StreamManager, ApplicationMisuseIsReported) {
  Mgr client(Side::kClient);
  std::vector<std::uint8_t> buf(10);
  EXPECT_FALSE(client.write(StreamId{0}, pattern(0, 1)));  // never opened
  const StreamId uni = *client.open_stream(Direction::kUni);
  EXPECT_FALSE(client.read(uni, buf));  // send-only
  EXPECT_FALSE(client.stop_sending(uni, 0));
  ASSERT_TRUE(client.on_stream_frame(StreamId{3}, 0, pattern(0, 1), false));
  EXPECT_FALSE(client.write(StreamId{3}, pattern(0, 1)));  // receive-only
  EXPECT_FALSE(client.reset_stream(StreamId{3}, 0));
  ASSERT_TRUE(client.write(uni, pattern(0, 1), true));
  EXPECT_FALSE(client.write(uni, pattern(1, 1)));  // after FIN
}

TEST(StreamManager, StopSendingFromThePeerResetsWithItsCode) {
  Mgr server(Side::kServer);
  ASSERT_TRUE(server.on_stream_frame(StreamId{0}, 0, pattern(0, 100), false));
  ASSERT_EQ(*server.write(StreamId{0}, pattern(0, 5000)), 5000u);
  auto f = server.next_stream_frame(1200);
  ASSERT_TRUE(f);
  const std::uint64_t sent = f->data.size();
  drain_events(server);
  ASSERT_TRUE(server.on_stop_sending(StreamId{0}, 0x33));
  EXPECT_EQ(drain_events(server), (std::vector<StreamEvent>{{Kind::kStopped, StreamId{0}, 0x33}}));
  EXPECT_EQ(server.send_state(StreamId{0}), SendState::kResetSent);
  auto c = server.pop_control_frame(100, kNow);
  ASSERT_TRUE(c);
  const ControlFrame expected = ResetStreamFrame{StreamId{0}, 0x33, sent};
  EXPECT_EQ(*c, expected);
  EXPECT_FALSE(server.next_stream_frame(1200));  // no more STREAM frames after RESET_STREAM
  EXPECT_FALSE(server.has_stream_data());
  EXPECT_FALSE(server.write(StreamId{0}, pattern(0, 1)));
  ASSERT_TRUE(server.on_stop_sending(StreamId{0}, 0x44));  // repeated: nothing new
  EXPECT_FALSE(server.has_control_frames());
  // Lost RESET_STREAM is resent; once acknowledged the send part is done.
  server.on_control_frame_lost(*c);
  c = server.pop_control_frame(100, kNow);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, expected);
  server.on_control_frame_acked(*c);
  EXPECT_EQ(server.send_state(StreamId{0}), SendState::kResetRecvd);
  server.on_control_frame_lost(*c);  // a stale loss report changes nothing
  EXPECT_FALSE(server.has_control_frames());
  // The stream goes away when the receiving part is done too.
  ASSERT_TRUE(server.on_stream_frame(StreamId{0}, 100, {}, true));
  std::vector<std::uint8_t> buf(200);
  ASSERT_TRUE(server.read(StreamId{0}, buf)->fin);
  EXPECT_FALSE(server.exists(StreamId{0}));
}

TEST(StreamManager, ApplicationStopSendingSendsStopSendingWhileRelevant) {
  Mgr server(Side::kServer);
  ASSERT_TRUE(server.on_stream_frame(StreamId{0}, 0, pattern(0, 100), false));
  ASSERT_TRUE(server.stop_sending(StreamId{0}, 5));
  auto c = server.pop_control_frame(100, kNow);
  ASSERT_TRUE(c);
  EXPECT_EQ(std::get<StopSendingFrame>(*c), (StopSendingFrame{StreamId{0}, 5}));
  server.on_control_frame_lost(*c);
  ASSERT_TRUE(server.pop_control_frame(100, kNow));
  ASSERT_TRUE(server.on_reset_stream(StreamId{0}, 5, 300));
  EXPECT_EQ(server.recv_state(StreamId{0}), RecvState::kResetRead);
  server.on_control_frame_lost(*c);  // the peer has reset: no point any more
  EXPECT_FALSE(server.has_control_frames());
  // The dropped and never-sent bytes are released to the connection.
  EXPECT_EQ(server.connection_recv_flow().consumed(), 300u);
}

TEST(StreamManager, PeerResetIsReadByTheApplicationAndReleasesCredit) {
  Mgr server(Side::kServer, 10000, 8000);
  ASSERT_TRUE(server.on_stream_frame(StreamId{2}, 0, pattern(0, 100), false));
  drain_events(server);
  std::vector<std::uint8_t> buf(100);
  ASSERT_EQ(server.read(StreamId{2}, buf)->bytes, 100u);
  ASSERT_TRUE(server.on_reset_stream(StreamId{2}, 99, 6000));
  EXPECT_EQ(drain_events(server), (std::vector<StreamEvent>{{Kind::kReadable, StreamId{2}, 0}}));
  auto r = server.read(StreamId{2}, buf);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->reset);
  EXPECT_EQ(r->reset_code, 99u);
  EXPECT_FALSE(server.exists(StreamId{2}));
  // 6000 of 10000 released at once: MAX_DATA due.
  auto c = server.pop_control_frame(100, kNow);
  ASSERT_TRUE(c);
  EXPECT_EQ(std::get<MaxDataFrame>(*c).maximum_data, 16000u);
}

TEST(StreamManager, ApplicationResetSendsResetStream) {
  Mgr client(Side::kClient);
  const StreamId id = *client.open_stream(Direction::kUni);
  ASSERT_TRUE(client.write(id, pattern(0, 3000)));
  ASSERT_TRUE(client.next_stream_frame(1000));
  ASSERT_TRUE(client.reset_stream(id, 8));
  auto c = client.pop_control_frame(100, kNow);
  ASSERT_TRUE(c);
  const auto& reset = std::get<ResetStreamFrame>(*c);
  EXPECT_EQ(reset.id, id);
  EXPECT_EQ(reset.error_code, 8u);
  EXPECT_EQ(reset.final_size, client.connection_send_flow().used());
  EXPECT_FALSE(client.next_stream_frame(1000));
  client.on_stream_data_lost(id, 0, 900, false);  // lost data of a reset stream is not resent
  EXPECT_FALSE(client.has_stream_data());
  client.on_control_frame_acked(*c);
  EXPECT_FALSE(client.exists(id));  // send-only stream: done
}

TEST(StreamManager, WritableEventAfterBackPressure) {
  StreamConfig cfg = config(Side::kClient, limits(1 << 20, 1 << 16, 10));
  cfg.send_buffer_limit = 1000;
  StreamManager client(cfg);
  ASSERT_TRUE(client.set_peer_limits(limits(1 << 20, 1 << 16, 10)));
  const StreamId id = *client.open_stream(Direction::kBidi);
  EXPECT_EQ(*client.write(id, pattern(0, 1500)), 1000u);
  EXPECT_EQ(*client.write(id, pattern(1000, 500)), 0u);
  auto f = client.next_stream_frame(1200);
  ASSERT_TRUE(f);
  client.on_stream_data_acked(id, 0, 400, false);
  EXPECT_TRUE(drain_events(client).empty());  // 400 free: below half the buffer
  client.on_stream_data_acked(id, 400, 200, false);
  EXPECT_EQ(drain_events(client), (std::vector<StreamEvent>{{Kind::kWritable, id, 0}}));
  EXPECT_EQ(*client.write(id, pattern(1000, 500)), 500u);
}

TEST(StreamManager, ControlFramesRespectTheRoomGiven) {
  Mgr server(Side::kServer, 10000, 8000);
  ASSERT_TRUE(server.on_stream_frame(StreamId{2}, 0, pattern(0, 6000), false));
  std::vector<std::uint8_t> buf(6000);
  ASSERT_EQ(server.read(StreamId{2}, buf)->bytes, 6000u);
  // MAX_DATA 16000: type + 2-byte varint; MAX_STREAM_DATA{2, 14000}: type + 1 + 2.
  EXPECT_FALSE(server.pop_control_frame(2, kNow));
  auto c = server.pop_control_frame(3, kNow);
  ASSERT_TRUE(c);
  EXPECT_EQ(encoded_size(*c), 3u);
  EXPECT_EQ(std::get<MaxDataFrame>(*c).maximum_data, 16000u);
  EXPECT_FALSE(server.pop_control_frame(3, kNow));
  c = server.pop_control_frame(4, kNow);
  ASSERT_TRUE(c);
  EXPECT_EQ(std::get<MaxStreamDataFrame>(*c), (MaxStreamDataFrame{StreamId{2}, 14000}));
}

}  // namespace
}  // namespace roam::streams
