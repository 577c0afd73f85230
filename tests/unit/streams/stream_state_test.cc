// The sending and receiving state machines of RFC 9000 3.1 / 3.2.
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "streams/recv_stream.h"
#include "streams/send_stream.h"
#include "test_util.h"

namespace roam::streams {
namespace {

using test::matches_pattern;
using test::pattern;

constexpr std::uint64_t kBig = std::numeric_limits<std::uint64_t>::max();

SendChunk send_one(SendStream& s, std::size_t max = 1000) {
  std::uint64_t credit_used = 0;
  auto c = s.next_chunk(max, kBig, &credit_used);
  EXPECT_TRUE(c);
  return c ? *c : SendChunk{};
}

TEST(SendStream, ReadySendDataSentDataRecvd) {
  SendStream s(10000, 1 << 20);
  EXPECT_EQ(s.state(), SendState::kReady);
  ASSERT_EQ(*s.write(pattern(0, 1500), false), 1500u);
  EXPECT_EQ(s.state(), SendState::kReady);  // buffered, nothing sent yet
  send_one(s);
  EXPECT_EQ(s.state(), SendState::kSend);
  ASSERT_EQ(*s.write({}, true), 0u);
  const auto last = send_one(s);
  EXPECT_TRUE(last.fin);
  EXPECT_EQ(s.state(), SendState::kDataSent);
  s.on_acked(0, 1000, false);
  EXPECT_EQ(s.state(), SendState::kDataSent);
  s.on_acked(1000, 500, true);
  EXPECT_EQ(s.state(), SendState::kDataRecvd);
  EXPECT_TRUE(s.terminal());
  EXPECT_FALSE(s.reset(7));  // nothing to abandon any more
}

TEST(SendStream, ResetFromEachSendingState) {
  for (int sent = 0; sent < 3; ++sent) {
    SendStream s(10000, 1 << 20);
    ASSERT_TRUE(s.write(pattern(0, 100), sent == 2));
    if (sent >= 1) send_one(s);
    EXPECT_TRUE(s.reset(42));
    EXPECT_EQ(s.state(), SendState::kResetSent);
    EXPECT_EQ(s.reset_code(), 42u);
    EXPECT_EQ(s.final_size(), sent >= 1 ? 100u : 0u);  // the credit consumed
    EXPECT_FALSE(s.reset(43));                          // already reset
    EXPECT_FALSE(s.has_sendable());
    EXPECT_FALSE(s.has_retransmit());
    s.on_lost(0, 100, false);  // late loss reports do not resurrect data
    EXPECT_FALSE(s.has_retransmit());
    EXPECT_EQ(s.write(pattern(0, 1), false).error().code, TransportError::kStreamStateError);
    s.on_reset_acked();
    EXPECT_EQ(s.state(), SendState::kResetRecvd);
    EXPECT_TRUE(s.terminal());
  }
}

TEST(SendStream, WriteAfterFinIsAStateError) {
  SendStream s(10000, 1 << 20);
  ASSERT_TRUE(s.write(pattern(0, 10), true));
  auto r = s.write(pattern(10, 10), false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, TransportError::kStreamStateError);
}

TEST(SendStream, BufferLimitPushesBack) {
  SendStream s(kBig, 1000);
  EXPECT_EQ(*s.write(pattern(0, 1500), true), 1000u);  // fin not applied: data was cut
  EXPECT_FALSE(s.buffer().finished());
  EXPECT_EQ(s.writable(), 0u);
  send_one(s, 600);
  s.on_acked(0, 600, false);
  EXPECT_EQ(s.writable(), 600u);
  EXPECT_EQ(*s.write(pattern(1000, 500), true), 500u);
  EXPECT_TRUE(s.buffer().finished());
}

TEST(SendStream, StreamLimitBlocksAndReportsOncePerLimit) {
  SendStream s(1000, 1 << 20);
  ASSERT_TRUE(s.write(pattern(0, 3000), false));
  std::uint64_t used = 0;
  auto c = s.next_chunk(5000, kBig, &used);
  ASSERT_TRUE(c);
  EXPECT_EQ(used, 1000u);
  EXPECT_TRUE(s.blocked());
  EXPECT_FALSE(s.has_sendable());
  EXPECT_TRUE(s.should_report_blocked());
  s.on_blocked_reported();
  EXPECT_FALSE(s.should_report_blocked());
  EXPECT_TRUE(s.still_blocked_at(1000));
  EXPECT_FALSE(s.on_max_stream_data(900));
  EXPECT_TRUE(s.on_max_stream_data(2000));
  EXPECT_TRUE(s.has_sendable());
  // Connection credit bounds new data too.
  c = s.next_chunk(5000, 300, &used);
  EXPECT_EQ(used, 300u);
  EXPECT_EQ(c->offset, 1000u);
}

TEST(RecvStream, RecvSizeKnownDataRecvdDataRead) {
  RecvStream r(10000, 10000);
  EXPECT_EQ(r.state(), RecvState::kRecv);
  EXPECT_EQ(*r.on_data(500, pattern(500, 500), true, kBig), 1000u);  // highest offset grew by 1000
  EXPECT_EQ(r.state(), RecvState::kSizeKnown);
  EXPECT_FALSE(r.has_event());
  EXPECT_EQ(*r.on_data(0, pattern(0, 500), false, kBig), 0u);
  EXPECT_EQ(r.state(), RecvState::kDataRecvd);
  EXPECT_TRUE(r.has_event());
  std::vector<std::uint8_t> out(600);
  auto rr = r.read(out);
  EXPECT_EQ(rr.bytes, 600u);
  EXPECT_FALSE(rr.fin);
  EXPECT_TRUE(matches_pattern(0, out));
  rr = r.read(out);
  EXPECT_EQ(rr.bytes, 400u);
  EXPECT_TRUE(rr.fin);
  EXPECT_EQ(r.state(), RecvState::kDataRead);
  EXPECT_TRUE(r.terminal());
  EXPECT_EQ(r.take_released(), 1000u);
}

TEST(RecvStream, EmptyStreamWithFinIsReadOnce) {
  RecvStream r(100, 100);
  ASSERT_TRUE(r.on_data(0, {}, true, kBig));
  EXPECT_EQ(r.state(), RecvState::kDataRecvd);
  EXPECT_TRUE(r.has_event());
  std::vector<std::uint8_t> out(10);
  auto rr = r.read(out);
  EXPECT_EQ(rr.bytes, 0u);
  EXPECT_TRUE(rr.fin);
  EXPECT_EQ(r.state(), RecvState::kDataRead);
}

TEST(RecvStream, ResetInRecvIsDeliveredOnceThenResetRead) {
  RecvStream r(10000, 10000);
  ASSERT_TRUE(r.on_data(0, pattern(0, 100), false, kBig));
  std::vector<std::uint8_t> out(10);
  ASSERT_EQ(r.read(out).bytes, 10u);
  EXPECT_EQ(*r.on_reset(77, 300, kBig), 200u);  // final size 300: 200 more than seen
  EXPECT_EQ(r.state(), RecvState::kResetRecvd);
  EXPECT_TRUE(r.has_event());
  auto rr = r.read(out);
  EXPECT_TRUE(rr.reset);
  EXPECT_EQ(rr.reset_code, 77u);
  EXPECT_EQ(rr.bytes, 0u);
  EXPECT_EQ(r.state(), RecvState::kResetRead);
  EXPECT_EQ(r.take_released(), 300u);  // the whole final size is accounted to the connection
  // Retransmitted data within the final size is ignored; beyond it is an error.
  EXPECT_TRUE(r.on_data(100, pattern(100, 200), false, kBig));
  EXPECT_EQ(r.on_data(250, pattern(250, 100), false, kBig).error().code, TransportError::kFinalSizeError);
  EXPECT_EQ(r.on_reset(77, 301, kBig).error().code, TransportError::kFinalSizeError);
  EXPECT_TRUE(r.on_reset(77, 300, kBig));
}

TEST(RecvStream, ResetMustNotChangeTheFinalSize) {
  RecvStream r(10000, 10000);
  ASSERT_TRUE(r.on_data(0, pattern(0, 100), true, kBig));
  auto e = r.on_reset(1, 200, kBig);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, TransportError::kFinalSizeError);
  RecvStream r2(10000, 10000);
  ASSERT_TRUE(r2.on_data(0, pattern(0, 500), false, kBig));
  EXPECT_EQ(r2.on_reset(1, 400, kBig).error().code, TransportError::kFinalSizeError);  // below data seen
}

TEST(RecvStream, ResetAfterAllDataIsSuppressed) {
  RecvStream r(10000, 10000);
  ASSERT_TRUE(r.on_data(0, pattern(0, 100), true, kBig));
  ASSERT_EQ(r.state(), RecvState::kDataRecvd);
  ASSERT_TRUE(r.on_reset(5, 100, kBig));
  EXPECT_EQ(r.state(), RecvState::kDataRecvd);  // the application still gets every byte
  std::vector<std::uint8_t> out(200);
  auto rr = r.read(out);
  EXPECT_EQ(rr.bytes, 100u);
  EXPECT_TRUE(rr.fin);
}

TEST(RecvStream, FlowControlViolations) {
  RecvStream r(1000, 1000);
  auto e = r.on_data(900, pattern(900, 101), false, kBig);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, TransportError::kFlowControlError);
  e = r.on_data(0, pattern(0, 600), false, 500);  // connection credit smaller than the growth
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, TransportError::kFlowControlError);
  EXPECT_EQ(r.buffer().highest_received(), 0u);  // refused frames change nothing
  EXPECT_EQ(r.on_reset(0, 1001, kBig).error().code, TransportError::kFlowControlError);
  EXPECT_TRUE(r.on_data(0, pattern(0, 1000), false, 1000));
}

TEST(RecvStream, StopSendingDiscardsAndReleasesCredit) {
  RecvStream r(10000, 10000);
  ASSERT_TRUE(r.on_data(0, pattern(0, 300), false, kBig));
  EXPECT_TRUE(r.stop_sending(9));
  EXPECT_TRUE(r.stopped());
  EXPECT_TRUE(r.stop_sending_relevant());
  EXPECT_FALSE(r.has_event());
  EXPECT_EQ(r.take_released(), 300u);  // dropped data frees connection credit
  ASSERT_TRUE(r.on_data(300, pattern(300, 100), false, kBig));
  EXPECT_EQ(r.take_released(), 100u);
  EXPECT_FALSE(r.stop_sending(9));  // once
  // The peer answers with RESET_STREAM: nobody needs to be told, the part is done.
  ASSERT_TRUE(r.on_reset(9, 500, kBig));
  EXPECT_EQ(r.state(), RecvState::kResetRead);
  EXPECT_FALSE(r.stop_sending_relevant());
  EXPECT_EQ(r.take_released(), 100u);
}

TEST(RecvStream, StopSendingAfterAllDataNeedsNoFrame) {
  RecvStream r(10000, 10000);
  ASSERT_TRUE(r.on_data(0, pattern(0, 300), true, kBig));
  EXPECT_FALSE(r.stop_sending(1));
  EXPECT_EQ(r.state(), RecvState::kDataRead);
}

TEST(RecvStream, StopSendingThenRemainingDataEndsTheStream) {
  RecvStream r(10000, 10000);
  ASSERT_TRUE(r.on_data(100, pattern(100, 100), true, kBig));
  EXPECT_TRUE(r.stop_sending(1));
  ASSERT_TRUE(r.on_data(0, pattern(0, 100), false, kBig));
  EXPECT_EQ(r.state(), RecvState::kDataRead);
}

TEST(RecvStream, MaxStreamDataIsDueOnlyInRecv) {
  RecvStream r(1000, 1000);
  ASSERT_TRUE(r.on_data(0, pattern(0, 600), false, kBig));
  EXPECT_FALSE(r.update_due());
  std::vector<std::uint8_t> out(600);
  ASSERT_EQ(r.read(out).bytes, 600u);
  EXPECT_TRUE(r.update_due());
  EXPECT_TRUE(r.update_relevant(1000));
  ASSERT_TRUE(r.on_data(600, pattern(600, 10), true, kBig));  // Size Known: no more credit needed
  EXPECT_FALSE(r.update_due());
  EXPECT_FALSE(r.update_relevant(1000));
}

}  // namespace
}  // namespace roam::streams
