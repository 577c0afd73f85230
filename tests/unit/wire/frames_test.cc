#include "wire/frames.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace roam::wire {
namespace {

namespace ft = frame_type;

std::vector<std::uint8_t> hex(std::string_view s) {
  std::string clean;
  for (char c : s) {
    if (c != ' ' && c != '\n') clean.push_back(c);
  }
  std::basic_string<std::uint8_t> out;
  EXPECT_TRUE(from_hex(clean, out)) << s;
  return {out.begin(), out.end()};
}

// Static payload storage so frames can refer to it.
const std::vector<std::uint8_t>& blob() {
  static const std::vector<std::uint8_t> b = [] {
    std::vector<std::uint8_t> v(3000);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return v;
  }();
  return b;
}
Bytes data(std::size_t n) { return Bytes(blob()).first(n); }

constexpr std::uint64_t kBig = kVarintMax;

// One or more samples of every frame type, covering each varint width and every flag.
std::vector<Frame> samples() {
  std::vector<Frame> f;
  f.push_back(PaddingFrame{1});
  f.push_back(PaddingFrame{17});
  f.push_back(PingFrame{});
  f.push_back(AckFrame{0, 0, {{0, 0}}, std::nullopt});
  f.push_back(AckFrame{100, 25, {{90, 100}, {50, 80}, {0, 10}}, std::nullopt});
  f.push_back(AckFrame{kBig, kBig, {{kBig - 5, kBig}, {1ull << 40, kBig - 7}}, EcnCounts{1, 2, 3}});
  f.push_back(AckFrame{70000, 3, {{69990, 70000}}, EcnCounts{0, 0, kBig}});
  f.push_back(ResetStreamFrame{StreamId{4}, 0x10c, 1ull << 33});
  f.push_back(ResetStreamFrame{StreamId{kBig}, kBig, kBig});
  f.push_back(StopSendingFrame{StreamId{3}, 77});
  f.push_back(CryptoFrame{0, data(241)});
  f.push_back(CryptoFrame{1ull << 20, {}});
  f.push_back(CryptoFrame{kBig - 10, data(10)});
  f.push_back(NewTokenFrame{data(1)});
  f.push_back(NewTokenFrame{data(300)});
  for (int flags = 0; flags < 8; ++flags) {
    StreamFrame s;
    s.stream_id = StreamId{static_cast<std::uint64_t>(flags) * 1000};
    s.offset = (flags & 4) ? 123456 : 0;
    s.has_length = (flags & 2) != 0;
    s.fin = (flags & 1) != 0;
    s.data = data(static_cast<std::size_t>(flags) * 10);
    f.push_back(s);
  }
  f.push_back(StreamFrame{StreamId{kBig}, kBig - 2000, data(2000), true, true});
  f.push_back(MaxDataFrame{0});
  f.push_back(MaxDataFrame{kBig});
  f.push_back(MaxStreamDataFrame{StreamId{2}, 65536});
  f.push_back(MaxStreamsFrame{true, 100});
  f.push_back(MaxStreamsFrame{false, kMaxStreamCount});
  f.push_back(DataBlockedFrame{16384});
  f.push_back(StreamDataBlockedFrame{StreamId{9}, 1ull << 30});
  f.push_back(StreamsBlockedFrame{true, 0});
  f.push_back(StreamsBlockedFrame{false, kMaxStreamCount});
  NewConnectionIdFrame n1;
  n1.seq = 1;
  n1.retire_prior_to = 0;
  n1.cid = ConnectionId(data(8));
  n1.reset_token = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  f.push_back(n1);
  n1.seq = kBig;
  n1.retire_prior_to = kBig;
  n1.cid = ConnectionId(data(20));
  f.push_back(n1);
  n1.cid = ConnectionId(data(1));
  f.push_back(n1);
  f.push_back(RetireConnectionIdFrame{5});
  f.push_back(PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}});
  f.push_back(PathResponseFrame{{8, 7, 6, 5, 4, 3, 2, 1}});
  f.push_back(ConnectionCloseFrame{false, 0x0a, 0x08, data(12)});
  f.push_back(ConnectionCloseFrame{false, 0x100 + 40, 0, {}});
  f.push_back(ConnectionCloseFrame{true, kBig, 0, data(100)});
  f.push_back(HandshakeDoneFrame{});
  f.push_back(DatagramFrame{data(0), true});
  f.push_back(DatagramFrame{data(1200), true});
  f.push_back(DatagramFrame{data(0), false});
  f.push_back(DatagramFrame{data(33), false});
  return f;
}

// Frames whose data runs to the end of the payload (or, for PADDING, whose prefix is itself a
// shorter valid frame).
bool extends_to_end(const Frame& f) {
  if (std::holds_alternative<PaddingFrame>(f)) return true;
  if (const auto* s = std::get_if<StreamFrame>(&f)) return !s->has_length;
  if (const auto* d = std::get_if<DatagramFrame>(&f)) return !d->has_length;
  return false;
}

std::vector<std::uint8_t> encode(const Frame& f) {
  std::vector<std::uint8_t> buf(encoded_size(f) + 16);
  Writer w(buf);
  EXPECT_TRUE(encode_frame(w, f));
  buf.resize(w.size());
  return buf;
}

std::string hex_of(const Frame& f) { return to_hex(encode(f)); }

TEST(Frames, EveryFrameTypeRoundTrips) {
  std::vector<std::uint64_t> types_seen;
  for (const Frame& f : samples()) {
    const auto bytes = encode(f);
    ASSERT_EQ(bytes.size(), encoded_size(f)) << frame_type_name(frame_type_of(f));
    Reader r(bytes);
    auto d = decode_frame(r);
    ASSERT_TRUE(d.ok()) << frame_type_name(frame_type_of(f)) << ": " << d.error().reason;
    EXPECT_TRUE(*d == f) << frame_type_name(frame_type_of(f));
    EXPECT_TRUE(r.empty());
    EXPECT_EQ(frame_type_of(*d), frame_type_of(f));
    EXPECT_EQ(bytes[0], frame_type_of(f));  // every frame type fits one byte
    types_seen.push_back(frame_type_of(f));
  }
  // Every frame type value is covered: 0x00..0x1e and 0x30, 0x31.
  for (std::uint64_t t = 0; t <= 0x1e; ++t) {
    EXPECT_NE(std::find(types_seen.begin(), types_seen.end(), t), types_seen.end()) << t;
  }
  EXPECT_NE(std::find(types_seen.begin(), types_seen.end(), 0x30u), types_seen.end());
  EXPECT_NE(std::find(types_seen.begin(), types_seen.end(), 0x31u), types_seen.end());
}

TEST(Frames, FieldByFieldAfterDecode) {
  StreamFrame s{StreamId{8}, 1000, data(5), true, true};
  const auto bytes = encode(s);
  Reader r(bytes);
  auto d = decode_frame(r);
  ASSERT_TRUE(d.ok());
  const auto& got = std::get<StreamFrame>(*d);
  EXPECT_EQ(got.stream_id, StreamId{8});
  EXPECT_EQ(got.offset, 1000u);
  EXPECT_EQ(got.data.size(), 5u);
  EXPECT_EQ(got.data.data(), bytes.data() + bytes.size() - 5);  // zero-copy: points into the input
  EXPECT_TRUE(got.fin);
  EXPECT_TRUE(got.has_length);
}

TEST(Frames, EveryTruncationIsAFrameEncodingError) {
  for (const Frame& f : samples()) {
    if (extends_to_end(f)) continue;
    const auto bytes = encode(f);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      Reader r(Bytes(bytes).first(n));
      auto d = decode_frame(r);
      ASSERT_FALSE(d.ok()) << frame_type_name(frame_type_of(f)) << " prefix " << n;
      EXPECT_EQ(d.error().code, TransportError::kFrameEncodingError);
      EXPECT_EQ(d.error().frame_type, n == 0 ? 0 : frame_type_of(f));
      EXPECT_EQ(r.position(), 0u);  // the reader is left where it was
    }
  }
}

TEST(Frames, TruncatedHeadersOfFramesRunningToTheEnd) {
  // STREAM without Length: cuts inside Stream ID or Offset fail, cuts inside data are shorter frames.
  StreamFrame s{StreamId{1ull << 20}, 1ull << 35, data(4), false, false};
  const auto bytes = encode(s);
  const std::size_t header = 1 + 4 + 8;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    Reader r(Bytes(bytes).first(n));
    auto d = decode_frame(r);
    if (n < header) {
      EXPECT_FALSE(d.ok()) << n;
    } else {
      ASSERT_TRUE(d.ok()) << n;
      EXPECT_EQ(std::get<StreamFrame>(*d).data.size(), n - header);
    }
  }
  // DATAGRAM without Length: the type byte alone is an empty datagram.
  const auto empty_datagram = hex("30");
  Reader r(empty_datagram);
  auto d = decode_frame(r);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(std::get<DatagramFrame>(*d).data.empty());
}

TEST(Frames, GoldenEncodings) {
  EXPECT_EQ(hex_of(PingFrame{}), "01");
  EXPECT_EQ(hex_of(PaddingFrame{3}), "000000");
  // largest 100, delay 5, ranges [90,100] and [50,80]: first range 10, gap 90-80-2 = 8, length 30.
  EXPECT_EQ(hex_of(AckFrame{100, 5, {{90, 100}, {50, 80}}, std::nullopt}), "02406405010a081e");
  EXPECT_EQ(hex_of(AckFrame{1, 0, {{1, 1}}, EcnCounts{1, 2, 3}}), "0301000000010203");
  EXPECT_EQ(hex_of(StreamFrame{StreamId{4}, 0, data(2), true, true}), "0b0402" + to_hex(data(2)));
  EXPECT_EQ(hex_of(StreamFrame{StreamId{4}, 64, data(0), false, false}), "0c044040");
  EXPECT_EQ(hex_of(CryptoFrame{0, data(1)}), "060001" + to_hex(data(1)));
  EXPECT_EQ(hex_of(MaxStreamsFrame{false, 10}), "130a");
  EXPECT_EQ(hex_of(StreamsBlockedFrame{true, 10}), "160a");
  EXPECT_EQ(hex_of(ConnectionCloseFrame{false, 0x0a, 0x06, {}}), "1c0a0600");
  EXPECT_EQ(hex_of(ConnectionCloseFrame{true, 0x0a, 0x06, data(1)}), "1d0a01" + to_hex(data(1)));
  NewConnectionIdFrame n;
  n.seq = 2;
  n.retire_prior_to = 1;
  n.cid = ConnectionId{0xaa, 0xbb};
  n.reset_token.fill(0x11);
  EXPECT_EQ(hex_of(n), "18020102aabb11111111111111111111111111111111");
  EXPECT_EQ(hex_of(PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}}), "1a0102030405060708");
  EXPECT_EQ(hex_of(HandshakeDoneFrame{}), "1e");
  EXPECT_EQ(hex_of(DatagramFrame{data(1), false}), "30" + to_hex(data(1)));
  EXPECT_EQ(hex_of(DatagramFrame{data(1), true}), "3101" + to_hex(data(1)));
}

TEST(Frames, DecodesRfc9001ServerInitialPayload) {
  // RFC 9001 A.3: an ACK frame then a 90-byte CRYPTO frame (the ServerHello).
  auto payload = hex(
      "02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739"
      "88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94"
      "0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00"
      "020304");
  Reader r(payload);
  auto ack = decode_frame(r);
  ASSERT_TRUE(ack.ok());
  EXPECT_TRUE(*ack == Frame(AckFrame{0, 0, {{0, 0}}, std::nullopt}));
  auto crypto = decode_frame(r);
  ASSERT_TRUE(crypto.ok());
  const auto& c = std::get<CryptoFrame>(*crypto);
  EXPECT_EQ(c.offset, 0u);
  EXPECT_EQ(c.data.size(), 90u);
  EXPECT_EQ(c.data[0], 0x02);  // TLS ServerHello
  EXPECT_TRUE(r.empty());
}

TEST(Frames, NonMinimalFrameTypeIsProtocolViolation) {
  for (std::string_view s : {"4001", "800000 01", "c000000000000001", "4000", "4006 00 00", "4030", "401c 00 00 00"}) {
    auto bytes = hex(s);
    Reader r(bytes);
    auto d = decode_frame(r);
    ASSERT_FALSE(d.ok()) << s;
    EXPECT_EQ(d.error().code, TransportError::kProtocolViolation) << s;
    EXPECT_EQ(r.position(), 0u);
  }
  const auto ping = hex("4001");
  Reader r(ping);
  EXPECT_EQ(decode_frame(r).error().frame_type, 1u);
}

TEST(Frames, UnknownFrameTypeIsFrameEncodingError) {
  for (std::string_view s : {"1f", "20", "2f", "32", "3f", "4040", "40af", "80abcdef"}) {
    auto bytes = hex(s);
    Reader r(bytes);
    auto d = decode_frame(r);
    ASSERT_FALSE(d.ok()) << s;
    EXPECT_EQ(d.error().code, TransportError::kFrameEncodingError) << s;
    Reader tr(bytes);
    std::uint64_t t = 0;
    ASSERT_TRUE(tr.read_varint(t));
    EXPECT_EQ(d.error().frame_type, t);
    EXPECT_EQ(d.error().reason, "unknown frame type");
  }
}

Error decode_error(std::string_view s) {
  auto bytes = hex(s);
  Reader r(bytes);
  auto d = decode_frame(r);
  EXPECT_FALSE(d.ok()) << s;
  return d.ok() ? Error{} : d.error();
}

bool decodes(std::string_view s) {
  auto bytes = hex(s);
  Reader r(bytes);
  return decode_frame(r).ok() && r.empty();
}

TEST(Frames, AckRangeUnderflowIsRejected) {
  // First ACK Range larger than Largest Acknowledged.
  EXPECT_EQ(decode_error("02 05 00 00 06").reason, "ACK range below packet number 0");
  EXPECT_TRUE(decodes("02 05 00 00 05"));
  // Gap below zero: smallest 5, gap 4 -> largest = 5 - 4 - 2 < 0.
  EXPECT_EQ(decode_error("02 0a 00 01 05 04 00").reason, "ACK range below packet number 0");
  EXPECT_TRUE(decodes("02 0a 00 01 05 03 00"));  // largest = 0
  // Range length below zero: smallest 5, gap 0 -> largest 3, length 4.
  EXPECT_EQ(decode_error("02 0a 00 01 05 00 04").reason, "ACK range below packet number 0");
  EXPECT_TRUE(decodes("02 0a 00 01 05 00 03"));
  // Frame type is reported.
  EXPECT_EQ(decode_error("03 05 00 00 06").frame_type, 3u);
}

TEST(Frames, AckRangeCountIsBoundedByInput) {
  // A huge count with few bytes is a truncation, detected before allocating.
  EXPECT_EQ(decode_error("02 05 00 bfffffff 00 00 00").reason, "truncated ACK frame");
  EXPECT_EQ(decode_error("02 05 00 ffffffffffffffff 00").reason, "truncated ACK frame");
  // Many real ranges decode: 1000 ranges of single packets, gaps of one packet.
  std::vector<AckRange> ranges;
  for (std::uint64_t i = 0; i < 1000; ++i) ranges.push_back({4000 - 2 * i, 4000 - 2 * i});
  AckFrame a{4000, 0, ranges, std::nullopt};
  const auto bytes = encode(a);
  Reader r(bytes);
  auto d = decode_frame(r);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<AckFrame>(*d).ranges.size(), 1000u);
}

TEST(Frames, StreamAndCryptoOffsetLimit) {
  // offset 2^62-1 with no data is fine; one more byte is not.
  EXPECT_TRUE(decodes("0e 00 ffffffffffffffff 00"));
  EXPECT_EQ(decode_error("0e 00 ffffffffffffffff 01 aa").reason, "STREAM data beyond 2^62-1");
  EXPECT_EQ(decode_error("0c 00 ffffffffffffffff aa").reason, "STREAM data beyond 2^62-1");
  EXPECT_EQ(decode_error("0c 00 ffffffffffffffff aa").frame_type, 0x0cu);
  EXPECT_TRUE(decodes("06 ffffffffffffffff 00"));
  EXPECT_EQ(decode_error("06 ffffffffffffffff 01 aa").reason, "CRYPTO data beyond 2^62-1");
  EXPECT_EQ(decode_error("06 fffffffffffffffe 02 aabb").code, TransportError::kFrameEncodingError);
}

TEST(Frames, StreamCountLimits) {
  // 2^60 = 0xd000000000000000 as an 8-byte varint; 2^60 + 1 is rejected.
  for (std::string_view t : {"12", "13", "16", "17"}) {
    EXPECT_TRUE(decodes(std::string(t) + "d000000000000000"));
    const Error e = decode_error(std::string(t) + "d000000000000001");
    EXPECT_EQ(e.code, TransportError::kFrameEncodingError);
    EXPECT_EQ(e.frame_type, hex(t)[0]);
  }
}

TEST(Frames, NewConnectionIdValidation) {
  const std::string token(32, '1');
  EXPECT_TRUE(decodes("18 01 00 01 aa" + token));
  EXPECT_EQ(decode_error("18 01 00 00" + token).reason, "NEW_CONNECTION_ID length not 1..20");
  EXPECT_EQ(decode_error("18 01 00 15" + std::string(42, 'a') + token).reason, "NEW_CONNECTION_ID length not 1..20");
  EXPECT_TRUE(decodes("18 01 00 14" + std::string(40, 'a') + token));
  EXPECT_EQ(decode_error("18 01 02 01 aa" + token).reason, "NEW_CONNECTION_ID Retire Prior To above Sequence");
  EXPECT_TRUE(decodes("18 02 02 01 aa" + token));
}

TEST(Frames, OtherValidationRules) {
  EXPECT_EQ(decode_error("07 00").reason, "empty NEW_TOKEN token");
  EXPECT_EQ(decode_error("07 00").frame_type, 7u);
  EXPECT_EQ(decode_error("1c 00 00 05 aabb").reason, "truncated CONNECTION_CLOSE frame");
  EXPECT_EQ(decode_error("31 05 aabb").reason, "truncated DATAGRAM frame");
  // A length that does not fit size_t arithmetic is a truncation, not an overflow.
  EXPECT_EQ(decode_error("06 00 ffffffffffffffff aa").code, TransportError::kFrameEncodingError);
  EXPECT_EQ(decode_error("0a 00 ffffffffffffffff aa").code, TransportError::kFrameEncodingError);
}

TEST(Frames, PaddingRunIsOneFrame) {
  auto bytes = hex("0000000001");
  Reader r(bytes);
  auto d = decode_frame(r);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<PaddingFrame>(*d).length, 4u);
  EXPECT_EQ(r.position(), 4u);
  auto ping = decode_frame(r);
  ASSERT_TRUE(ping.ok());
  EXPECT_TRUE(std::holds_alternative<PingFrame>(*ping));
}

TEST(Frames, EncoderRefusesInvalidFramesAndWritesNothing) {
  const std::vector<Frame> invalid = {
      PaddingFrame{0},
      AckFrame{10, 0, {}, std::nullopt},
      AckFrame{10, 0, {{0, 9}}, std::nullopt},                 // first range does not end at largest
      AckFrame{10, 0, {{5, 10}, {4, 4}}, std::nullopt},        // adjacent: no gap
      AckFrame{10, 0, {{5, 10}, {2, 6}}, std::nullopt},        // overlapping
      AckFrame{10, 0, {{11, 10}}, std::nullopt},               // smallest > largest
      AckFrame{10, kBig + 1, {{0, 10}}, std::nullopt},         // delay too large
      AckFrame{10, 0, {{0, 10}}, EcnCounts{kBig + 1, 0, 0}},   // ECN count too large
      AckFrame{kBig + 1, 0, {{0, kBig + 1}}, std::nullopt},    // largest too large
      ResetStreamFrame{StreamId{kBig + 1}, 0, 0},
      StopSendingFrame{StreamId{0}, kBig + 1},
      CryptoFrame{kBig, data(1)},
      NewTokenFrame{{}},
      StreamFrame{StreamId{0}, kBig, data(1), false, true},
      StreamFrame{StreamId{kBig + 1}, 0, {}, false, true},
      MaxDataFrame{kBig + 1},
      MaxStreamsFrame{true, kMaxStreamCount + 1},
      StreamsBlockedFrame{false, kMaxStreamCount + 1},
      NewConnectionIdFrame{1, 2, ConnectionId{1}, {}},
      NewConnectionIdFrame{1, 0, ConnectionId{}, {}},
      RetireConnectionIdFrame{kBig + 1},
      ConnectionCloseFrame{false, 0, kBig + 1, {}},
  };
  for (const Frame& f : invalid) {
    std::array<std::uint8_t, 256> buf{};
    Writer w(buf);
    EXPECT_FALSE(encode_frame(w, f)) << frame_type_name(frame_type_of(f));
    EXPECT_EQ(w.size(), 0u);
  }
  // Too little room: nothing written, writer still usable.
  for (const Frame& f : samples()) {
    const std::size_t n = encoded_size(f);
    std::vector<std::uint8_t> buf(n - 1);
    Writer w(buf);
    EXPECT_FALSE(encode_frame(w, f));
    EXPECT_EQ(w.size(), 0u);
    EXPECT_TRUE(w.ok());
  }
}

TEST(Frames, Properties) {
  EXPECT_FALSE(is_ack_eliciting(Frame{PaddingFrame{}}));
  EXPECT_FALSE(is_ack_eliciting(Frame{AckFrame{0, 0, {{0, 0}}, std::nullopt}}));
  EXPECT_FALSE(is_ack_eliciting(Frame{ConnectionCloseFrame{}}));
  EXPECT_FALSE(is_ack_eliciting(Frame{ConnectionCloseFrame{true, 0, 0, {}}}));
  EXPECT_TRUE(is_ack_eliciting(Frame{PingFrame{}}));
  EXPECT_TRUE(is_ack_eliciting(Frame{DatagramFrame{}}));
  EXPECT_TRUE(is_ack_eliciting(Frame{PathResponseFrame{}}));
  EXPECT_TRUE(counts_in_flight(Frame{PaddingFrame{}}));
  EXPECT_TRUE(counts_in_flight(Frame{PingFrame{}}));
  EXPECT_FALSE(counts_in_flight(Frame{AckFrame{0, 0, {{0, 0}}, std::nullopt}}));
  EXPECT_FALSE(counts_in_flight(Frame{ConnectionCloseFrame{}}));
  int probing = 0;
  for (std::uint64_t t = 0; t <= 0x40; ++t) probing += is_probing_frame(t) ? 1 : 0;
  EXPECT_EQ(probing, 4);
  EXPECT_TRUE(is_probing_frame(ft::kPathChallenge));
  EXPECT_TRUE(is_probing_frame(ft::kPathResponse));
  EXPECT_TRUE(is_probing_frame(ft::kNewConnectionId));
  EXPECT_TRUE(is_probing_frame(ft::kPadding));
  EXPECT_EQ(frame_type_name(0x0d), "STREAM");
  EXPECT_EQ(frame_type_name(0x1d), "CONNECTION_CLOSE");
  EXPECT_EQ(frame_type_name(0x31), "DATAGRAM");
  EXPECT_EQ(frame_type_name(0x1f), "UNKNOWN");
  EXPECT_EQ(frame_type_of(Frame{StreamFrame{StreamId{0}, 1, {}, true, true}}), 0x0fu);
  EXPECT_EQ(frame_type_of(Frame{StreamFrame{StreamId{0}, 0, {}, false, false}}), 0x08u);
}

// encode_ack takes as many ranges as fit and never more than max_ranges.
TEST(AckEncode, FitsAsManyRangesAsRoom) {
  std::vector<AckRange> ranges;
  for (std::uint64_t i = 0; i < 40; ++i) {
    const std::uint64_t hi = 1'000'000 - i * 500 - (i % 3) * 70;
    ranges.push_back({hi - (i * 13 % 200), hi});
  }
  const EcnCounts ecn{5, 0, 1};
  for (const EcnCounts* e : {static_cast<const EcnCounts*>(nullptr), &ecn}) {
    for (std::size_t room = 0; room < 200; ++room) {
      std::vector<std::uint8_t> buf(room);
      Writer w(buf);
      const std::size_t k = encode_ack(w, 300, ranges, e, 1000);
      AckFrame full{ranges[0].largest, 300, {}, e ? std::optional<EcnCounts>(*e) : std::optional<EcnCounts>()};
      if (k == 0) {
        full.ranges.assign(ranges.begin(), ranges.begin() + 1);
        EXPECT_GT(encoded_size(full), room);
        EXPECT_EQ(w.size(), 0u);
        continue;
      }
      full.ranges.assign(ranges.begin(), ranges.begin() + static_cast<std::ptrdiff_t>(k));
      EXPECT_EQ(w.size(), encoded_size(full)) << room;
      if (k < ranges.size()) {
        full.ranges.push_back(ranges[k]);
        EXPECT_GT(encoded_size(full), room) << "one more range would have fit, room " << room;
      }
      Reader r(w.written());
      auto d = decode_frame(r);
      ASSERT_TRUE(d.ok());
      const auto& a = std::get<AckFrame>(*d);
      EXPECT_EQ(a.ranges, std::vector<AckRange>(ranges.begin(), ranges.begin() + static_cast<std::ptrdiff_t>(k)));
      EXPECT_EQ(a.ack_delay, 300u);
      EXPECT_EQ(a.ecn.has_value(), e != nullptr);
    }
  }
}

TEST(AckEncode, MaxRangesAndRefusals) {
  const std::vector<AckRange> ranges = {{20, 30}, {10, 15}, {0, 5}};
  std::array<std::uint8_t, 64> buf{};
  Writer w(buf);
  EXPECT_EQ(encode_ack(w, 0, ranges, nullptr, 2), 2u);
  Reader r(w.written());
  auto d = decode_frame(r);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<AckFrame>(*d).ranges.size(), 2u);

  // A Gap field of 0 (exactly one missing packet) is valid.
  const std::vector<AckRange> one_missing = {{20, 30}, {10, 18}};
  Writer w1(buf);
  EXPECT_EQ(encode_ack(w1, 0, one_missing, nullptr, 5), 2u);
  EXPECT_EQ(to_hex(w1.written()), "021e00010a0008");

  Writer w2(buf);
  EXPECT_EQ(encode_ack(w2, 0, ranges, nullptr, 0), 0u);
  EXPECT_EQ(encode_ack(w2, 0, {}, nullptr, 5), 0u);
  const std::vector<AckRange> adjacent = {{20, 30}, {10, 19}};  // no missing packet between
  EXPECT_EQ(encode_ack(w2, 0, adjacent, nullptr, 5), 0u);
  const std::vector<AckRange> ascending = {{0, 5}, {20, 30}};
  EXPECT_EQ(encode_ack(w2, 0, ascending, nullptr, 5), 0u);
  EXPECT_EQ(encode_ack(w2, kBig + 1, ranges, nullptr, 5), 0u);
  EXPECT_EQ(w2.size(), 0u);
}

// Capacity is exact: the frame with that much data fits, one more byte does not.
TEST(FrameSizing, StreamAndCryptoCapacityIsExact) {
  for (std::uint64_t id : {std::uint64_t{0}, std::uint64_t{100}, std::uint64_t{1} << 40}) {
    for (std::uint64_t off : {std::uint64_t{0}, std::uint64_t{10}, std::uint64_t{70000}, kBig - 5}) {
      for (bool with_length : {false, true}) {
        for (std::size_t space = 0; space < 17000; space += (space < 300 ? 1 : 97)) {
          const std::size_t n = stream_frame_capacity(StreamId{id}, off, space, with_length);
          const std::size_t empty = stream_frame_overhead(StreamId{id}, off, 0, with_length);
          if (space < empty) {
            EXPECT_EQ(n, 0u);
            continue;
          }
          EXPECT_LE(stream_frame_overhead(StreamId{id}, off, n, with_length) + n, space);
          if (n < kMaxStreamOffset - off) {
            EXPECT_GT(stream_frame_overhead(StreamId{id}, off, n + 1, with_length) + n + 1, space)
                << id << " " << off << " " << space;
          }
          const std::vector<std::uint8_t> payload(n, 0x42);
          const Frame f = StreamFrame{StreamId{id}, off, payload, false, with_length};
          EXPECT_EQ(encoded_size(f), stream_frame_overhead(StreamId{id}, off, n, with_length) + n);
        }
      }
      for (std::size_t space = 0; space < 17000; space += (space < 300 ? 1 : 97)) {
        const std::size_t n = crypto_frame_capacity(off, space);
        if (space < crypto_frame_overhead(off, 0)) {
          EXPECT_EQ(n, 0u);
          continue;
        }
        EXPECT_LE(crypto_frame_overhead(off, n) + n, space);
        if (n < kMaxStreamOffset - off) {
          EXPECT_GT(crypto_frame_overhead(off, n + 1) + n + 1, space);
        }
      }
    }
  }
  EXPECT_EQ(stream_frame_overhead(StreamId{4}, 0, 2, true), 3u);
  EXPECT_EQ(stream_frame_overhead(StreamId{4}, 64, 2, false), 4u);
  EXPECT_EQ(crypto_frame_overhead(0, 241), 4u);
  EXPECT_EQ(datagram_frame_overhead(64, true), 3u);
  EXPECT_EQ(datagram_frame_overhead(64, false), 1u);
}

}  // namespace
}  // namespace roam::wire
