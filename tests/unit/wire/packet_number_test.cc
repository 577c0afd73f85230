#include "wire/packet_number.h"

#include <gtest/gtest.h>

namespace roam::wire {
namespace {

TEST(PacketNumber, EncodingLengthFollowsRfcExamples) {
  // RFC 9000 17.1: largest acked 0xabe8b3, sending 0xac5c02 needs 16 bits; 0xace8fe needs 24 bits.
  EXPECT_EQ(packet_number_length(0xac5c02, 0xabe8b3, true), 2u);
  EXPECT_EQ(packet_number_length(0xace8fe, 0xabe8b3, true), 3u);
  EXPECT_EQ(packet_number_length(0, 0, false), 1u);
  EXPECT_EQ(packet_number_length(200, 0, false), 2u);
  EXPECT_EQ(packet_number_length(1u << 30, 0, false), 4u);
}

TEST(PacketNumber, DecodesRfcExample) {
  // RFC 9000 A.3: largest 0xa82f30ea, 16-bit truncated 0x9b32 decodes to 0xa82f9b32.
  EXPECT_EQ(decode_packet_number(0xa82f30ea, true, 0x9b32, 16), 0xa82f9b32u);
}

TEST(PacketNumber, DecodesAcrossWindowEdges) {
  EXPECT_EQ(decode_packet_number(0, false, 0, 8), 0u);
  EXPECT_EQ(decode_packet_number(0xff, true, 0x00, 8), 0x100u);   // wraps forward
  EXPECT_EQ(decode_packet_number(0x100, true, 0xff, 8), 0xffu);   // slightly older packet
  EXPECT_EQ(decode_packet_number(0x17f, true, 0x01, 8), 0x101u);  // 127 behind beats 129 ahead
  EXPECT_EQ(decode_packet_number(0x1f0, true, 0x05, 8), 0x205u);
  // Near the top of the space, never exceed 2^62 - 1.
  const std::uint64_t top = (1ull << 62) - 1;
  EXPECT_LE(decode_packet_number(top - 1, true, 0xffffffff, 32), top);
}

TEST(PacketNumber, RoundTripsWithChosenLength) {
  for (std::uint64_t largest_acked : {0ull, 1000ull, 0xabe8b3ull, 0x12345678ull}) {
    for (std::uint64_t delta : {1ull, 2ull, 100ull, 127ull, 30000ull, 4000000ull}) {
      const std::uint64_t pn = largest_acked + delta;
      const auto len = packet_number_length(pn, largest_acked, true);
      const std::uint64_t truncated = pn & ((1ull << (8 * len)) - 1);
      // The receiver has seen at least largest_acked.
      EXPECT_EQ(decode_packet_number(largest_acked, true, truncated, static_cast<unsigned>(8 * len)), pn)
          << largest_acked << "+" << delta;
    }
  }
}

}  // namespace
}  // namespace roam::wire
