#include "wire/frame_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace roam::wire {
namespace {

// RFC 9000 table 3 "Pkts" column (I = Initial, H = Handshake, 0 = 0-RTT, 1 = 1-RTT), with
// RETIRE_CONNECTION_ID narrowed to 1-RTT per section 12.5, and RFC 9221 for DATAGRAM.
struct Row {
  std::uint64_t type;
  const char* pkts;
};
constexpr Row kTable[] = {
    {0x00, "IH01"}, {0x01, "IH01"}, {0x02, "IH_1"}, {0x03, "IH_1"}, {0x04, "__01"}, {0x05, "__01"},
    {0x06, "IH_1"}, {0x07, "___1"}, {0x08, "__01"}, {0x09, "__01"}, {0x0a, "__01"}, {0x0b, "__01"},
    {0x0c, "__01"}, {0x0d, "__01"}, {0x0e, "__01"}, {0x0f, "__01"}, {0x10, "__01"}, {0x11, "__01"},
    {0x12, "__01"}, {0x13, "__01"}, {0x14, "__01"}, {0x15, "__01"}, {0x16, "__01"}, {0x17, "__01"},
    {0x18, "__01"}, {0x19, "___1"}, {0x1a, "__01"}, {0x1b, "___1"}, {0x1c, "IH01"}, {0x1d, "__01"},
    {0x1e, "___1"}, {0x30, "__01"}, {0x31, "__01"},
};

TEST(FrameRules, MatchesRfcTable) {
  for (const Row& row : kTable) {
    const std::string p = row.pkts;
    EXPECT_TRUE(is_known_frame_type(row.type));
    EXPECT_EQ(frame_allowed_in(row.type, PacketType::kInitial), p[0] == 'I') << row.type;
    EXPECT_EQ(frame_allowed_in(row.type, PacketType::kHandshake), p[1] == 'H') << row.type;
    EXPECT_EQ(frame_allowed_in(row.type, PacketType::kZeroRtt), p[2] == '0') << row.type;
    EXPECT_EQ(frame_allowed_in(row.type, PacketType::kOneRtt), p[3] == '1') << row.type;
    EXPECT_FALSE(frame_allowed_in(row.type, PacketType::kRetry));
    EXPECT_FALSE(frame_allowed_in(row.type, PacketType::kVersionNegotiation));
  }
  for (std::uint64_t t : {0x1full, 0x20ull, 0x2full, 0x32ull, 0xafull, 0x4000ull}) {
    EXPECT_FALSE(is_known_frame_type(t));
    EXPECT_FALSE(frame_allowed_in(t, PacketType::kOneRtt));
  }
}

std::vector<std::uint8_t> build(std::initializer_list<Frame> frames) {
  std::vector<std::uint8_t> buf(4096);
  Writer w(buf);
  for (const Frame& f : frames) EXPECT_TRUE(encode_frame(w, f));
  buf.resize(w.size());
  return buf;
}

TEST(FrameRules, ForEachFrameWalksThePayload) {
  const std::uint8_t data[] = {1, 2, 3};
  const auto payload = build({AckFrame{5, 1, {{0, 5}}, std::nullopt}, CryptoFrame{0, data}, PaddingFrame{10}});
  std::vector<std::uint64_t> types;
  Status s = for_each_frame(payload, PacketType::kInitial, [&](const Frame& f) { types.push_back(frame_type_of(f)); });
  ASSERT_TRUE(s.ok()) << s.error().reason;
  EXPECT_EQ(types, (std::vector<std::uint64_t>{0x02, 0x06, 0x00}));
}

TEST(FrameRules, ForEachFrameOnRfc9001ClientInitialPayload) {
  // RFC 9001 A.2: one CRYPTO frame of 241 bytes, then PADDING to 1162 bytes.
  std::vector<std::uint8_t> payload(1162, 0);
  payload[0] = 0x06;
  payload[1] = 0x00;
  payload[2] = 0x40;
  payload[3] = 0xf1;
  std::size_t crypto_len = 0, padding = 0;
  Status s = for_each_frame(payload, PacketType::kInitial, [&](Frame& f) {
    if (auto* c = std::get_if<CryptoFrame>(&f)) crypto_len = c->data.size();
    if (auto* p = std::get_if<PaddingFrame>(&f)) padding = p->length;
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(crypto_len, 241u);
  EXPECT_EQ(padding, 1162u - 245u);
}

TEST(FrameRules, ForEachFrameErrors) {
  auto noop = [](const Frame&) {};
  // No frames.
  Status s = for_each_frame({}, PacketType::kOneRtt, noop);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, TransportError::kProtocolViolation);
  // STREAM in an Initial, HANDSHAKE_DONE in 0-RTT, application close in Handshake.
  const std::uint8_t d[] = {9};
  struct Case {
    std::vector<std::uint8_t> payload;
    PacketType pt;
    std::uint64_t type;
  };
  const Case cases[] = {
      {build({PingFrame{}, StreamFrame{StreamId{0}, 0, d, false, true}}), PacketType::kInitial, 0x0a},
      {build({HandshakeDoneFrame{}}), PacketType::kZeroRtt, 0x1e},
      {build({ConnectionCloseFrame{true, 1, 0, {}}}), PacketType::kHandshake, 0x1d},
      {build({AckFrame{0, 0, {{0, 0}}, std::nullopt}}), PacketType::kZeroRtt, 0x02},
      {build({DatagramFrame{d, true}}), PacketType::kHandshake, 0x31},
  };
  for (const Case& c : cases) {
    int calls = 0;
    Status st = for_each_frame(c.payload, c.pt, [&](const Frame&) { ++calls; });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, TransportError::kProtocolViolation);
    EXPECT_EQ(st.error().frame_type, c.type);
    EXPECT_EQ(calls, c.type == 0x0a ? 1 : 0);  // frames before the offending one were delivered
  }
  // The type reported is the one on the wire: a STREAM frame with an explicit zero Offset is 0x0e.
  const std::vector<std::uint8_t> explicit_offset = {0x0e, 0x00, 0x00, 0x01, 0xaa};
  s = for_each_frame(explicit_offset, PacketType::kHandshake, noop);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().frame_type, 0x0eu);
  EXPECT_TRUE(for_each_frame(explicit_offset, PacketType::kOneRtt, noop).ok());
  // A decode error is returned as is.
  const std::vector<std::uint8_t> bad = {0x01, 0x1f};
  s = for_each_frame(bad, PacketType::kOneRtt, noop);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, TransportError::kFrameEncodingError);
  EXPECT_EQ(s.error().frame_type, 0x1fu);
  // A callback error stops the walk.
  const auto three_pings = build({PingFrame{}, PingFrame{}, PingFrame{}});
  int seen = 0;
  s = for_each_frame(three_pings, PacketType::kOneRtt, [&](const Frame&) -> Status {
    if (++seen == 2) return Error{TransportError::kInternalError, "stop", 1};
    return {};
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().reason, "stop");
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace roam::wire
