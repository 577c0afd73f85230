#include "streams/send_buffer.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "test_util.h"

namespace roam::streams {
namespace {

using test::matches_pattern;
using test::pattern;

constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

TEST(SendBuffer, ChunksNewDataInOrderWithFinOnTheLastChunk) {
  SendBuffer b;
  b.append(pattern(0, 2500));
  b.finish();
  std::vector<std::pair<std::uint64_t, std::size_t>> got;
  bool fin = false;
  while (auto c = b.next_chunk(1000, kNoLimit)) {
    EXPECT_TRUE(matches_pattern(c->offset, c->data));
    got.emplace_back(c->offset, c->data.size());
    fin = c->fin;
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::uint64_t, std::size_t>>{{0, 1000}, {1000, 1000}, {2000, 500}}));
  EXPECT_TRUE(fin);
  EXPECT_TRUE(b.fin_sent());
  EXPECT_FALSE(b.has_unsent());
}

TEST(SendBuffer, FinWithoutDataIsAnEmptyChunk) {
  SendBuffer b;
  b.append(pattern(0, 10));
  auto c = b.next_chunk(100, kNoLimit);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->fin);
  EXPECT_FALSE(b.next_chunk(100, kNoLimit));
  b.finish();
  c = b.next_chunk(100, kNoLimit);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->offset, 10u);
  EXPECT_TRUE(c->data.empty());
  EXPECT_TRUE(c->fin);
  EXPECT_FALSE(b.next_chunk(100, kNoLimit));
}

TEST(SendBuffer, FlowLimitBoundsNewData) {
  SendBuffer b;
  b.append(pattern(0, 5000));
  auto c = b.next_chunk(4000, 1500);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->data.size(), 1500u);
  EXPECT_FALSE(b.next_chunk(4000, 1500));  // blocked at the limit
  EXPECT_EQ(b.sent_high(), 1500u);
  c = b.next_chunk(4000, 2000);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->offset, 1500u);
  EXPECT_EQ(c->data.size(), 500u);
}

TEST(SendBuffer, LostRangesGoFirstLowestOffsetFirst) {
  SendBuffer b;
  b.append(pattern(0, 10000));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(b.next_chunk(1000, kNoLimit));  // [0,4000) in flight
  b.on_lost(2000, 1000, false);
  b.on_lost(0, 1000, false);
  auto c = b.next_chunk(600, kNoLimit);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->offset, 0u);
  EXPECT_EQ(c->data.size(), 600u);
  EXPECT_TRUE(matches_pattern(0, c->data));
  c = b.next_chunk(600, kNoLimit);
  EXPECT_EQ(c->offset, 600u);
  EXPECT_EQ(c->data.size(), 400u);
  c = b.next_chunk(2000, kNoLimit);
  EXPECT_EQ(c->offset, 2000u);
  EXPECT_EQ(c->data.size(), 1000u);
  // Retransmissions do not need flow credit and do not consume it.
  EXPECT_EQ(b.sent_high(), 4000u);
  c = b.next_chunk(1000, kNoLimit);
  EXPECT_EQ(c->offset, 4000u);  // new data resumes
}

TEST(SendBuffer, OnlyUnackedPartsOfALostRangeAreRetransmitted) {
  SendBuffer b;
  b.append(pattern(0, 3000));
  ASSERT_TRUE(b.next_chunk(3000, kNoLimit));
  b.on_acked(1200, 300, false);  // a retransmission of this part got through
  b.on_acked(2500, 500, false);
  b.on_lost(1000, 2000, false);
  std::vector<std::pair<std::uint64_t, std::size_t>> got;
  while (auto c = b.next_chunk(5000, kNoLimit)) got.emplace_back(c->offset, c->data.size());
  EXPECT_EQ(got, (std::vector<std::pair<std::uint64_t, std::size_t>>{{1000, 200}, {1500, 1000}}));
}

TEST(SendBuffer, AckAfterLossCancelsTheRetransmission) {
  SendBuffer b;
  b.append(pattern(0, 2000));
  ASSERT_TRUE(b.next_chunk(2000, kNoLimit));
  b.on_lost(0, 2000, false);
  b.on_acked(0, 1500, false);  // spurious loss: the original arrived after all
  auto c = b.next_chunk(5000, kNoLimit);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->offset, 1500u);
  EXPECT_EQ(c->data.size(), 500u);
  EXPECT_FALSE(b.next_chunk(5000, kNoLimit));
}

TEST(SendBuffer, DuplicateAndOverlappingAcksAdvanceThePrefix) {
  SendBuffer b;
  b.append(pattern(0, 1000));
  b.finish();
  while (b.next_chunk(100, kNoLimit)) {
  }
  b.on_acked(500, 200, false);
  b.on_acked(500, 200, false);
  EXPECT_EQ(b.acked_prefix(), 0u);
  b.on_acked(100, 450, false);
  EXPECT_EQ(b.acked_prefix(), 0u);
  b.on_acked(0, 150, false);
  EXPECT_EQ(b.acked_prefix(), 700u);
  EXPECT_FALSE(b.all_acked());
  b.on_acked(600, 400, true);
  EXPECT_EQ(b.acked_prefix(), 1000u);
  EXPECT_TRUE(b.all_acked());
  EXPECT_EQ(b.buffered(), 0u);
}

TEST(SendBuffer, AllAckedNeedsTheFin) {
  SendBuffer b;
  b.append(pattern(0, 100));
  auto c = b.next_chunk(100, kNoLimit);
  b.on_acked(0, 100, false);
  EXPECT_FALSE(b.all_acked());  // not finished
  b.finish();
  c = b.next_chunk(100, kNoLimit);
  ASSERT_TRUE(c && c->fin);
  EXPECT_FALSE(b.all_acked());
  b.on_acked(100, 0, true);
  EXPECT_TRUE(b.all_acked());
}

TEST(SendBuffer, LostFinIsResentWithTheLastLostDataOrAlone) {
  SendBuffer b;
  b.append(pattern(0, 1000));
  b.finish();
  auto c = b.next_chunk(1000, kNoLimit);
  ASSERT_TRUE(c && c->fin);
  b.on_lost(0, 1000, true);
  c = b.next_chunk(600, kNoLimit);
  EXPECT_EQ(c->offset, 0u);
  EXPECT_FALSE(c->fin);
  c = b.next_chunk(600, kNoLimit);
  EXPECT_EQ(c->offset, 600u);
  EXPECT_TRUE(c->fin);
  // Data acked in another packet, the FIN-carrying packet lost: a FIN-only frame.
  b.on_acked(0, 600, false);
  b.on_acked(600, 400, false);
  b.on_lost(600, 400, true);
  c = b.next_chunk(600, kNoLimit);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->offset, 1000u);
  EXPECT_TRUE(c->data.empty());
  EXPECT_TRUE(c->fin);
  EXPECT_FALSE(b.next_chunk(600, kNoLimit));
  b.on_acked(1000, 0, true);
  EXPECT_TRUE(b.all_acked());
  b.on_lost(1000, 0, true);  // late loss report after the ack: nothing to do
  EXPECT_FALSE(b.has_retransmit());
}

TEST(SendBuffer, AcksBeyondWhatWasSentAreIgnored) {
  SendBuffer b;
  b.append(pattern(0, 1000));
  ASSERT_TRUE(b.next_chunk(100, kNoLimit));
  b.on_acked(0, 1000, false);
  EXPECT_EQ(b.acked_prefix(), 100u);
  b.on_lost(0, 1000, false);  // nothing unacked below sent_high
  EXPECT_FALSE(b.has_retransmit());
}

TEST(SendBuffer, ResetDiscardsEverything) {
  SendBuffer b;
  b.append(pattern(0, 100000));
  ASSERT_TRUE(b.next_chunk(1000, kNoLimit));
  b.on_lost(0, 1000, false);
  b.reset();
  EXPECT_TRUE(b.is_reset());
  EXPECT_EQ(b.memory(), 0u);
  EXPECT_FALSE(b.next_chunk(1000, kNoLimit));
  EXPECT_FALSE(b.has_retransmit());
  b.append(pattern(0, 10));
  EXPECT_EQ(b.end(), 100000u);
}

TEST(SendBuffer, ViewsCrossTheRingWrapInTwoChunks) {
  SendBuffer b;
  // Fill, send and ack part so the next appends wrap around the ring.
  b.append(pattern(0, 700));
  while (b.next_chunk(1000, kNoLimit)) {
  }
  b.on_acked(0, 700, false);
  b.append(pattern(700, 900));
  std::uint64_t next = 700;
  int chunks = 0;
  while (auto c = b.next_chunk(1000, kNoLimit)) {
    EXPECT_EQ(c->offset, next);
    EXPECT_TRUE(matches_pattern(c->offset, c->data));
    next += c->data.size();
    ++chunks;
  }
  EXPECT_EQ(next, 1600u);
  EXPECT_EQ(chunks, 2);  // 1024-byte ring: [700, 1024) then [1024, 1600)
}

// Hundreds of megabytes stream through with memory bounded by what is unacknowledged.
TEST(SendBuffer, LargeTransferKeepsMemoryBounded) {
  constexpr std::uint64_t kTotal = 256ull << 20;
  constexpr std::uint64_t kWindow = 1 << 20;  // unacked bytes the writer allows
  constexpr std::size_t kPacket = 1200;
  SendBuffer b;
  std::vector<std::uint8_t> block = pattern(0, 64 * 1024);
  std::uint64_t written = 0;
  std::size_t peak = 0;
  std::uint64_t next_expected = 0;
  while (!b.all_acked()) {
    while (written < kTotal && b.buffered() < kWindow) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), kTotal - written));
      b.append(Bytes(block.data(), n));
      written += n;
      if (written == kTotal) b.finish();
    }
    // Send a flight, ack it.
    for (int i = 0; i < 64; ++i) {
      auto c = b.next_chunk(kPacket, kNoLimit);
      if (!c) break;
      ASSERT_EQ(c->offset, next_expected);
      // The written data repeats every 64 KiB.
      ASSERT_TRUE(c->data.empty() || c->data[0] == block[c->offset % block.size()]);
      next_expected += c->data.size();
      b.on_acked(c->offset, c->data.size(), c->fin);
    }
    peak = std::max(peak, b.memory());
  }
  EXPECT_EQ(next_expected, kTotal);
  EXPECT_LE(peak, 2 * kWindow + 64 * 1024);
  EXPECT_EQ(b.memory(), 0u);  // FIN acknowledged: storage freed
}

}  // namespace
}  // namespace roam::streams
