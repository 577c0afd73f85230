#include "wire/varint.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace roam::wire {
namespace {

std::vector<std::uint8_t> hex(std::string_view s) {
  std::basic_string<std::uint8_t> out;
  EXPECT_TRUE(from_hex(s, out));
  return {out.begin(), out.end()};
}

// RFC 9000 appendix A.1 examples.
struct VarintVector {
  const char* encoded;
  std::uint64_t value;
};
constexpr VarintVector kVectors[] = {
    {"c2197c5eff14e88c", 151288809941952652ull},
    {"9d7f3e7d", 494878333},
    {"7bbd", 15293},
    {"25", 37},
    {"4025", 37},  // non-minimal two-byte encoding decodes to the same value
};

TEST(Varint, DecodesRfcExamples) {
  for (const auto& v : kVectors) {
    auto bytes = hex(v.encoded);
    Reader r(bytes);
    std::uint64_t out = 0;
    ASSERT_TRUE(r.read_varint(out)) << v.encoded;
    EXPECT_EQ(out, v.value) << v.encoded;
    EXPECT_TRUE(r.empty());
  }
}

TEST(Varint, EncodesShortestForm) {
  for (const auto& v : kVectors) {
    std::array<std::uint8_t, 8> buf{};
    Writer w(buf);
    ASSERT_TRUE(w.write_varint(v.value));
    Reader r(w.written());
    std::uint64_t out = 0;
    ASSERT_TRUE(r.read_varint(out));
    EXPECT_EQ(out, v.value);
    EXPECT_EQ(w.size(), varint_size(v.value));
  }
  std::array<std::uint8_t, 8> buf{};
  Writer w(buf);
  ASSERT_TRUE(w.write_varint(15293));
  EXPECT_EQ(to_hex(w.written()), "7bbd");
}

TEST(Varint, BoundariesRoundTrip) {
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{16383}, std::uint64_t{16384}, (std::uint64_t{1} << 30) - 1, std::uint64_t{1} << 30, kVarintMax}) {
    std::array<std::uint8_t, 8> buf{};
    Writer w(buf);
    ASSERT_TRUE(w.write_varint(v));
    Reader r(w.written());
    std::uint64_t out = 0;
    ASSERT_TRUE(r.read_varint(out));
    EXPECT_EQ(out, v);
  }
}

TEST(Varint, RejectsTruncatedAndOversized) {
  auto bytes = hex("c2197c5eff14e8");  // 8-byte form, one byte short
  Reader r(bytes);
  std::uint64_t out = 7;
  EXPECT_FALSE(r.read_varint(out));
  EXPECT_EQ(out, 7u);
  EXPECT_EQ(r.position(), 0u);

  Reader empty(Bytes{});
  EXPECT_FALSE(empty.read_varint(out));

  std::array<std::uint8_t, 8> buf{};
  Writer w(buf);
  EXPECT_FALSE(w.write_varint(kVarintMax + 1));
  EXPECT_FALSE(w.ok());
}

TEST(Writer, OverflowIsStickyAndBounded) {
  std::array<std::uint8_t, 3> buf{};
  Writer w(buf);
  EXPECT_TRUE(w.write_u16(0xabcd));
  EXPECT_FALSE(w.write_u16(0x1234));
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 2u);
  EXPECT_FALSE(w.write_u8(1));
}

TEST(Writer, FixedLengthVarint) {
  std::array<std::uint8_t, 8> buf{};
  Writer w(buf);
  ASSERT_TRUE(w.write_varint_n(37, 2));
  EXPECT_EQ(to_hex(w.written()), "4025");
  EXPECT_FALSE(w.write_varint_n(16384, 2));
}

}  // namespace
}  // namespace roam::wire
