#include "tls/handshake_framer.h"

#include <gtest/gtest.h>

#include <vector>

namespace roam::tls {
namespace {

std::vector<std::uint8_t> message(std::uint8_t type, std::size_t length) {
  std::vector<std::uint8_t> m = {type, static_cast<std::uint8_t>(length >> 16),
                                 static_cast<std::uint8_t>(length >> 8),
                                 static_cast<std::uint8_t>(length)};
  m.resize(4 + length, 0xab);
  return m;
}

TEST(HandshakeFramer, CountsMessagesAcrossArbitrarySplits) {
  std::vector<std::uint8_t> stream;
  for (auto [type, len] : {std::pair{8, 10}, {11, 300}, {15, 0}, {20, 32}}) {
    auto m = message(static_cast<std::uint8_t>(type), static_cast<std::size_t>(len));
    stream.insert(stream.end(), m.begin(), m.end());
  }
  for (std::size_t chunk : {1u, 2u, 3u, 5u, 7u, 64u, 1000u}) {
    HandshakeFramer f(/*receiver_is_server=*/false, Level::kHandshake);
    for (std::size_t i = 0; i < stream.size(); i += chunk) {
      const std::size_t n = std::min(chunk, stream.size() - i);
      ASSERT_TRUE(f.feed(Bytes(stream).subspan(i, n))) << chunk;
    }
    EXPECT_TRUE(f.at_boundary());
    EXPECT_EQ(f.messages_complete(), 4u) << chunk;
  }
}

TEST(HandshakeFramer, TracksPartialHeadersAndBodies) {
  HandshakeFramer f(true, Level::kInitial);
  const auto m = message(1, 5);
  ASSERT_TRUE(f.feed(Bytes(m).first(2)));
  EXPECT_FALSE(f.at_boundary());
  ASSERT_TRUE(f.feed(Bytes(m).subspan(2, 4)));
  EXPECT_FALSE(f.at_boundary());
  EXPECT_EQ(f.messages_complete(), 0u);
  ASSERT_TRUE(f.feed(Bytes(m).subspan(6)));
  EXPECT_TRUE(f.at_boundary());
  EXPECT_EQ(f.messages_complete(), 1u);
}

struct Rule {
  bool server;
  Level level;
  std::uint8_t type;
  TransportError expected;  // kNoError: accepted
};

TEST(HandshakeFramer, EnforcesWhichMessagesMayArriveWhere) {
  constexpr auto ok = TransportError::kNoError;
  constexpr auto unexpected = crypto_error(10);
  const Rule rules[] = {
      {true, Level::kInitial, 1, ok},
      {true, Level::kInitial, 2, unexpected},
      {false, Level::kInitial, 2, ok},
      {false, Level::kInitial, 1, unexpected},
      {false, Level::kInitial, 8, unexpected},
      {false, Level::kHandshake, 8, ok},
      {false, Level::kHandshake, 11, ok},
      {false, Level::kHandshake, 13, ok},
      {false, Level::kHandshake, 15, ok},
      {false, Level::kHandshake, 20, ok},
      {false, Level::kHandshake, 2, unexpected},
      {true, Level::kHandshake, 11, ok},
      {true, Level::kHandshake, 20, ok},
      {true, Level::kHandshake, 8, unexpected},
      {true, Level::kHandshake, 5, unexpected},  // EndOfEarlyData is not used in QUIC
      {false, Level::kApplication, 4, ok},
      {false, Level::kApplication, 24, unexpected},
      {true, Level::kApplication, 24, unexpected},
      {false, Level::kApplication, 13, TransportError::kProtocolViolation},
      {true, Level::kApplication, 4, unexpected},
      {false, Level::kEarlyData, 4, unexpected},
      {false, Level::kApplication, 0, unexpected},
      {false, Level::kApplication, 255, unexpected},
  };
  for (const auto& r : rules) {
    auto st = check_incoming_message(r.server, r.level, r.type, 10);
    const auto got = st ? TransportError::kNoError : st.error().code;
    EXPECT_EQ(got, r.expected) << "server=" << r.server << " level=" << to_string(r.level)
                               << " type=" << int(r.type);
  }
}

TEST(HandshakeFramer, RejectsOversizedMessagesFromTheHeader) {
  HandshakeFramer f(true, Level::kInitial);
  const std::vector<std::uint8_t> header = {1, 0x01, 0x00, 0x01};  // 65537 bytes
  auto st = f.feed(header);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, TransportError::kCryptoBufferExceeded);
  EXPECT_TRUE(check_incoming_message(true, Level::kInitial, 1, kMaxHandshakeMessage));
}

}  // namespace
}  // namespace roam::tls
