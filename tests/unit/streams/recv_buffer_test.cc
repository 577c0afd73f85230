#include "streams/recv_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "common/random.h"
#include "test_util.h"

namespace roam::streams {
namespace {

using test::matches_pattern;
using test::pattern;

TEST(RecvBuffer, InOrderDataIsReadBack) {
  RecvBuffer b;
  ASSERT_TRUE(b.insert(0, pattern(0, 100), false));
  ASSERT_TRUE(b.insert(100, pattern(100, 50), true));
  EXPECT_EQ(b.readable(), 150u);
  EXPECT_TRUE(b.all_received());
  std::vector<std::uint8_t> out(200);
  EXPECT_EQ(b.read(out), 150u);
  EXPECT_TRUE(matches_pattern(0, Bytes(out.data(), 150)));
  EXPECT_TRUE(b.fin_read());
  EXPECT_EQ(b.memory(), 0u);  // everything read: storage released
}

TEST(RecvBuffer, OutOfOrderDataWaitsForTheGap) {
  RecvBuffer b;
  ASSERT_TRUE(b.insert(100, pattern(100, 100), false));
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_EQ(b.gaps(), 1u);
  EXPECT_EQ(b.highest_received(), 200u);
  ASSERT_TRUE(b.insert(0, pattern(0, 60), false));
  EXPECT_EQ(b.readable(), 60u);
  ASSERT_TRUE(b.insert(50, pattern(50, 60), false));  // overlaps both sides of the gap
  EXPECT_EQ(b.readable(), 200u);
  EXPECT_EQ(b.gaps(), 0u);
  std::vector<std::uint8_t> out(200);
  ASSERT_EQ(b.read(out), 200u);
  EXPECT_TRUE(matches_pattern(0, out));
}

TEST(RecvBuffer, DuplicatesAndStaleDataAreHarmless) {
  RecvBuffer b;
  ASSERT_TRUE(b.insert(0, pattern(0, 100), false));
  std::vector<std::uint8_t> out(50);
  ASSERT_EQ(b.read(out), 50u);
  ASSERT_TRUE(b.insert(0, pattern(0, 100), false));  // all old
  ASSERT_TRUE(b.insert(20, pattern(20, 100), false));  // partly old
  EXPECT_EQ(b.read_offset(), 50u);
  EXPECT_EQ(b.readable(), 70u);
  std::vector<std::uint8_t> rest(70);
  ASSERT_EQ(b.read(rest), 70u);
  EXPECT_TRUE(matches_pattern(50, rest));
}

// Random overlapping chunks in random order, reads interleaved, reproduce the original bytes.
TEST(RecvBuffer, RandomPermutationsOfOverlappingChunksReassemble) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    SeededRandom rng(seed);
    const std::size_t total = 1 + static_cast<std::size_t>(rng.uniform(200000));
    struct Piece {
      std::uint64_t offset;
      std::size_t len;
    };
    std::vector<Piece> pieces;
    // A covering sequence plus extra overlapping and duplicate pieces.
    for (std::uint64_t o = 0; o < total;) {
      const std::size_t len = std::min<std::size_t>(total - o, 1 + rng.uniform(3000));
      pieces.push_back({o, len});
      o += len;
    }
    const std::size_t extra = pieces.size() / 2;
    for (std::size_t i = 0; i < extra; ++i) {
      const std::uint64_t o = rng.uniform(total);
      pieces.push_back({o, std::min<std::size_t>(total - o, 1 + rng.uniform(5000))});
    }
    for (std::size_t i = pieces.size(); i > 1; --i) std::swap(pieces[i - 1], pieces[rng.uniform(i)]);

    RecvBuffer b;
    std::vector<std::uint8_t> out;
    std::vector<std::uint8_t> buf(4096);
    for (const auto& p : pieces) {
      const bool fin = p.offset + p.len == total;
      const auto data = pattern(p.offset, p.len);
      ASSERT_TRUE(b.insert(p.offset, data, fin)) << "seed " << seed;
      if (rng.uniform(2)) {
        while (std::size_t n = b.read(buf)) out.insert(out.end(), buf.begin(), buf.begin() + n);
      }
    }
    while (std::size_t n = b.read(buf)) out.insert(out.end(), buf.begin(), buf.begin() + n);
    ASSERT_EQ(out.size(), total) << "seed " << seed;
    EXPECT_TRUE(matches_pattern(0, out)) << "seed " << seed;
    EXPECT_TRUE(b.all_received());
    EXPECT_TRUE(b.fin_read());
  }
}

TEST(RecvBuffer, PeekAndConsumeAreZeroCopyAcrossTheWrap) {
  RecvBuffer b;
  ASSERT_TRUE(b.insert(0, pattern(0, 200), false));
  std::vector<std::uint8_t> sink(150);
  ASSERT_EQ(b.read(sink), 150u);
  ASSERT_TRUE(b.insert(200, pattern(200, 150), false));  // 256-byte ring: wraps at 256
  std::uint64_t offset = b.read_offset();
  int views = 0;
  while (b.readable() > 0) {
    const Bytes v = b.peek();
    ASSERT_FALSE(v.empty());
    EXPECT_TRUE(matches_pattern(offset, v));
    offset += v.size();
    b.consume(v.size());
    ++views;
  }
  EXPECT_EQ(offset, 350u);
  EXPECT_EQ(views, 2);
}

TEST(RecvBuffer, FinalSizeRules) {
  {
    RecvBuffer b;
    ASSERT_TRUE(b.insert(0, pattern(0, 100), true));
    auto s = b.insert(90, pattern(90, 20), false);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, TransportError::kFinalSizeError);  // data beyond the final size
    s = b.insert(0, pattern(0, 90), true);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, TransportError::kFinalSizeError);  // final size changed
    EXPECT_TRUE(b.insert(50, pattern(50, 50), true));          // same final size again: fine
    EXPECT_TRUE(b.insert(100, {}, true));
  }
  {
    RecvBuffer b;
    ASSERT_TRUE(b.insert(200, pattern(200, 100), false));
    auto s = b.insert(0, pattern(0, 100), true);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, TransportError::kFinalSizeError);  // FIN below data already received
    EXPECT_EQ(b.readable(), 0u);                                 // and nothing was stored
    EXPECT_FALSE(b.has_final_size());
  }
  {
    RecvBuffer b;
    ASSERT_TRUE(b.insert(0, pattern(0, 100), false));
    EXPECT_EQ(b.set_final_size(50).error().code, TransportError::kFinalSizeError);
    ASSERT_TRUE(b.set_final_size(300));
    EXPECT_EQ(b.set_final_size(301).error().code, TransportError::kFinalSizeError);
    EXPECT_EQ(b.insert(250, pattern(250, 51), false).error().code, TransportError::kFinalSizeError);
  }
}

TEST(RecvBuffer, OffsetsBeyondTheVarintRangeAreEncodingErrors) {
  RecvBuffer b;
  const std::uint64_t max = (1ull << 62) - 1;
  EXPECT_EQ(b.insert(max, pattern(0, 1), false).error().code, TransportError::kFrameEncodingError);
  EXPECT_EQ(b.validate(max + 1, 0, false).error().code, TransportError::kFrameEncodingError);
}

TEST(RecvBuffer, SpanLimitUsesTheConfiguredError) {
  RecvBuffer b(1000, TransportError::kCryptoBufferExceeded);
  ASSERT_TRUE(b.insert(900, pattern(900, 100), false));
  auto s = b.insert(950, pattern(950, 51), false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, TransportError::kCryptoBufferExceeded);
  ASSERT_TRUE(b.insert(0, pattern(0, 900), false));
  std::vector<std::uint8_t> out(500);
  ASSERT_EQ(b.read(out), 500u);
  EXPECT_TRUE(b.insert(1000, pattern(1000, 500), false));  // the window moved with the reader
  EXPECT_TRUE(b.insert(0, pattern(0, 100), false));        // stale data never hits the limit
}

TEST(RecvBuffer, DiscardStillTracksCompletion) {
  RecvBuffer b;
  ASSERT_TRUE(b.insert(100, pattern(100, 100), true));
  b.discard();
  EXPECT_EQ(b.memory(), 0u);
  EXPECT_FALSE(b.all_received());
  ASSERT_TRUE(b.insert(0, pattern(0, 100), false));
  EXPECT_TRUE(b.all_received());
  EXPECT_EQ(b.read_offset(), 200u);  // discarded data counts as consumed
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_EQ(b.insert(150, pattern(150, 100), false).error().code, TransportError::kFinalSizeError);
}

TEST(RecvBuffer, StreamingWithPromptReadsKeepsMemorySmall) {
  RecvBuffer b;
  std::vector<std::uint8_t> out(1200);
  std::uint64_t offset = 0;
  const auto packet = pattern(0, 1200);
  std::size_t peak = 0;
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(b.insert(offset, packet, false));
    offset += packet.size();
    ASSERT_EQ(b.read(out), out.size());
    peak = std::max(peak, b.memory());
  }
  EXPECT_LE(peak, 4096u);
}

TEST(RecvBuffer, MemoryShrinksAfterABacklogIsRead) {
  RecvBuffer b;
  // A hole at the front holds back 4 MB.
  ASSERT_TRUE(b.insert(1000, pattern(1000, 4 << 20), false));
  EXPECT_GE(b.memory(), 4u << 20);
  ASSERT_TRUE(b.insert(0, pattern(0, 1000), false));
  std::vector<std::uint8_t> out(1 << 16);
  std::uint64_t offset = 0;
  while (std::size_t n = b.read(out)) {
    ASSERT_TRUE(matches_pattern(offset, Bytes(out.data(), n)));
    offset += n;
  }
  EXPECT_EQ(offset, 1000u + (4u << 20));
  // The burst's ring survives its own drain (it may be the steady state)...
  EXPECT_GE(b.memory(), 4u << 20);
  // ...and goes once a smaller cycle shows it is no longer needed.
  ASSERT_TRUE(b.insert(offset, pattern(offset, 1000), false));
  ASSERT_EQ(b.read(out), 1000u);
  EXPECT_LE(b.memory(), 64u * 1024);
}

TEST(RecvBuffer, SteadyCyclesKeepTheirRing) {
  RecvBuffer b;
  std::vector<std::uint8_t> out(1 << 20);
  std::uint64_t offset = 0;
  const auto burst = pattern(0, 300 * 1024);
  std::size_t cap = 0;
  for (int cycle = 0; cycle < 20; ++cycle) {
    ASSERT_TRUE(b.insert(offset, burst, false));
    offset += burst.size();
    ASSERT_EQ(b.read(out), burst.size());
    if (cycle == 0) cap = b.memory();
    EXPECT_EQ(b.memory(), cap) << cycle;  // no shrink/regrow churn
  }
  EXPECT_GE(cap, burst.size());
}

}  // namespace
}  // namespace roam::streams
