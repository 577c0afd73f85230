#include "streams/crypto_stream.h"

#include <gtest/gtest.h>

#include <vector>

#include "streams/frame_size.h"
#include "test_util.h"

namespace roam::streams {
namespace {

using test::matches_pattern;
using test::pattern;

TEST(CryptoStream, ReassemblesOutOfOrderFrames) {
  CryptoStream c;
  ASSERT_TRUE(c.on_crypto_frame(1000, pattern(1000, 500)));
  EXPECT_EQ(c.readable(), 0u);
  ASSERT_TRUE(c.on_crypto_frame(0, pattern(0, 1000)));
  ASSERT_EQ(c.readable(), 1500u);
  std::vector<std::uint8_t> out(1500);
  ASSERT_EQ(c.read(out), 1500u);
  EXPECT_TRUE(matches_pattern(0, out));
}

TEST(CryptoStream, OutOfOrderDataBeyondTheBufferIsCryptoBufferExceeded) {
  CryptoStream c;  // 64 KiB
  ASSERT_TRUE(c.on_crypto_frame(60000, pattern(60000, 5536)));  // ends exactly at 64 KiB
  auto s = c.on_crypto_frame(65000, pattern(65000, 537));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, TransportError::kCryptoBufferExceeded);
  EXPECT_EQ(s.error().frame_type, 0x06u);
}

TEST(CryptoStream, InOrderDataReadPromptlyIsNeverCapped) {
  CryptoStream c(4096);
  std::vector<std::uint8_t> out(1000);
  for (std::uint64_t o = 0; o < 1000000; o += 1000) {
    ASSERT_TRUE(c.on_crypto_frame(o, pattern(o, 1000)));
    ASSERT_EQ(c.read(out), 1000u);
  }
  EXPECT_EQ(c.read_offset(), 1000000u);
}

TEST(CryptoStream, OffsetsBeyondTheVarintRangeAreRejected) {
  CryptoStream c;
  auto s = c.on_crypto_frame((1ull << 62) - 1, pattern(0, 2));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, TransportError::kFrameEncodingError);
}

TEST(CryptoStream, FramesFitTheGivenSizeAndLostDataIsResent) {
  CryptoStream c;
  c.write(pattern(0, 3000));
  std::vector<CryptoChunk> sent;
  while (auto f = c.next_frame(1000)) {
    const std::size_t size = crypto_frame_header(f->offset) + wire::varint_size(f->data.size()) + f->data.size();
    EXPECT_LE(size, 1000u);
    if (f->offset + f->data.size() < 3000) {
      EXPECT_EQ(size, 1000u);  // full frames until the end
    }
    EXPECT_TRUE(matches_pattern(f->offset, f->data));
    sent.push_back(*f);
  }
  ASSERT_GE(sent.size(), 3u);
  EXPECT_FALSE(c.has_pending());
  c.on_acked(sent[1].offset, sent[1].data.size());
  c.on_lost(0, 3000);  // everything not acked comes back
  auto f = c.next_frame(5000);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->offset, 0u);
  EXPECT_EQ(f->data.size(), sent[1].offset);
  f = c.next_frame(5000);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->offset, sent[1].offset + sent[1].data.size());
  EXPECT_FALSE(c.next_frame(5000));
  EXPECT_FALSE(c.next_frame(2));  // no room for even a header
}

TEST(CryptoStream, DiscardDropsEverything) {
  CryptoStream c;
  c.write(pattern(0, 100));
  ASSERT_TRUE(c.on_crypto_frame(10, pattern(10, 10)));
  c.discard();
  EXPECT_FALSE(c.has_pending());
  EXPECT_FALSE(c.next_frame(1000));
  EXPECT_TRUE(c.on_crypto_frame(0, pattern(0, 10)));  // ignored
  EXPECT_EQ(c.readable(), 0u);
}

TEST(FrameSize, PayloadWithLengthFillsTheRoomExactly) {
  for (std::size_t room = 2; room < 20000; ++room) {
    const std::size_t l = max_payload_with_length(room);
    EXPECT_LE(l + wire::varint_size(l), room) << room;
    EXPECT_GT(l + 1 + wire::varint_size(l + 1), room) << room;  // one more would not fit
  }
  EXPECT_EQ(max_payload_with_length(1), 0u);
  EXPECT_EQ(max_payload_with_length(64), 63u);
  EXPECT_EQ(max_payload_with_length(65), 63u);
  EXPECT_EQ(max_payload_with_length(66), 64u);
}

}  // namespace
}  // namespace roam::streams
