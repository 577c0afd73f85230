// Whole-packet seal/open on long and short headers for every algorithm and backend: round trips,
// tampering anywhere, the sample-size precondition, and packet number recovery.
#include "crypto/packet_protection.h"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "common/random.h"
#include "test_util.h"

namespace roam::crypto {
namespace {

using Vec = std::vector<std::uint8_t>;

struct Built {
  Vec buf;               // header + plaintext + 16 spare bytes
  std::size_t pn_offset;
  std::size_t payload_len;
};

// Short header: 0b01S RRKPP, 8-byte DCID, pn_len-byte packet number.
Built short_packet(std::uint64_t pn, std::size_t pn_len, bool key_phase, const Vec& payload) {
  Built b;
  b.buf.push_back(static_cast<std::uint8_t>(0x40 | (key_phase ? 0x04 : 0) | (pn_len - 1)));
  for (std::uint8_t i = 0; i < 8; ++i) b.buf.push_back(0xa0 + i);
  b.pn_offset = b.buf.size();
  for (std::size_t i = 0; i < pn_len; ++i) b.buf.push_back(static_cast<std::uint8_t>(pn >> (8 * (pn_len - 1 - i))));
  b.buf.insert(b.buf.end(), payload.begin(), payload.end());
  b.buf.resize(b.buf.size() + kAeadTagSize);
  b.payload_len = payload.size();
  return b;
}

// Handshake-type long header: version 1, 8-byte DCID, 4-byte SCID, 2-byte Length.
Built long_packet(std::uint64_t pn, std::size_t pn_len, const Vec& payload) {
  Built b;
  b.buf = {static_cast<std::uint8_t>(0xe0 | (pn_len - 1)), 0, 0, 0, 1, 8};
  for (std::uint8_t i = 0; i < 8; ++i) b.buf.push_back(0x10 + i);
  b.buf.push_back(4);
  for (std::uint8_t i = 0; i < 4; ++i) b.buf.push_back(0x20 + i);
  const std::size_t length = pn_len + payload.size() + kAeadTagSize;
  b.buf.push_back(static_cast<std::uint8_t>(0x40 | (length >> 8)));
  b.buf.push_back(static_cast<std::uint8_t>(length));
  b.pn_offset = b.buf.size();
  for (std::size_t i = 0; i < pn_len; ++i) b.buf.push_back(static_cast<std::uint8_t>(pn >> (8 * (pn_len - 1 - i))));
  b.buf.insert(b.buf.end(), payload.begin(), payload.end());
  b.buf.resize(b.buf.size() + kAeadTagSize);
  b.payload_len = payload.size();
  return b;
}

class PacketProtection : public ::testing::TestWithParam<std::tuple<AeadAlgorithm, Backend>> {
 protected:
  PacketKeys keys(std::uint64_t seed) {
    SeededRandom rng(seed);
    const Vec secret = test::random_bytes(rng, hash_size(aead_hash(algorithm())));
    auto k = derive_packet_keys(algorithm(), secret, backend());
    EXPECT_TRUE(k);
    return std::move(k.value());
  }
  AeadAlgorithm algorithm() const { return std::get<0>(GetParam()); }
  Backend backend() const { return std::get<1>(GetParam()); }
};

TEST_P(PacketProtection, RoundTripsShortAndLongHeaders) {
  const PacketKeys k = keys(1);
  SeededRandom rng(2);
  for (std::size_t pn_len = 1; pn_len <= 4; ++pn_len) {
    for (bool is_long : {false, true}) {
      for (bool phase : {false, true}) {
        if (is_long && phase) continue;
        const std::uint64_t pn = 0x12345678 & ((std::uint64_t{1} << (8 * pn_len)) - 1);
        const Vec payload = test::random_bytes(rng, 4 + rng.uniform(1300));
        Built b = is_long ? long_packet(pn, pn_len, payload) : short_packet(pn, pn_len, phase, payload);
        const Vec header(b.buf.begin(), b.buf.begin() + static_cast<std::ptrdiff_t>(b.pn_offset + pn_len));
        const std::size_t n = seal_packet(k, b.buf, b.pn_offset, pn_len, pn, b.payload_len);
        ASSERT_EQ(n, b.buf.size());
        // The payload is no longer in the clear, the unprotected parts of the header are.
        EXPECT_NE(Vec(b.buf.begin() + static_cast<std::ptrdiff_t>(header.size()), b.buf.end() - kAeadTagSize), payload);
        EXPECT_EQ(b.buf[0] & (is_long ? 0xf0 : 0xe0), header[0] & (is_long ? 0xf0 : 0xe0));
        EXPECT_TRUE(std::equal(header.begin() + 1, header.begin() + static_cast<std::ptrdiff_t>(b.pn_offset),
                               b.buf.begin() + 1));

        auto h = remove_header_protection(*k.header_protector, b.buf, b.pn_offset, pn ? pn - 1 : 0, pn != 0);
        ASSERT_TRUE(h);
        EXPECT_EQ(h->first_byte, header[0]);
        EXPECT_EQ(h->pn_len, pn_len);
        EXPECT_EQ(h->packet_number, pn);
        EXPECT_EQ(h->key_phase, phase);
        EXPECT_EQ(h->header_len, header.size());
        EXPECT_TRUE(std::equal(header.begin(), header.end(), b.buf.begin()));
        auto plain = decrypt_payload(k, b.buf, h->header_len, h->packet_number);
        ASSERT_TRUE(plain) << "pn_len " << pn_len << (is_long ? " long" : " short");
        EXPECT_EQ(Vec(plain->begin(), plain->end()), payload);
      }
    }
  }
}

TEST_P(PacketProtection, AnyTamperedByteFailsToOpen) {
  const PacketKeys k = keys(3);
  SeededRandom rng(4);
  for (bool is_long : {false, true}) {
    const Vec payload = test::random_bytes(rng, 60);
    Built b = is_long ? long_packet(700, 2, payload) : short_packet(700, 2, true, payload);
    ASSERT_NE(seal_packet(k, b.buf, b.pn_offset, 2, 700, b.payload_len), 0u);
    for (std::size_t i = 0; i < b.buf.size(); ++i) {
      for (std::uint8_t bit : {0x01, 0x80}) {
        Vec bad = b.buf;
        bad[i] ^= bit;
        auto h = remove_header_protection(*k.header_protector, bad, b.pn_offset, 650, true);
        ASSERT_TRUE(h);  // the size did not change, so there is always a sample
        EXPECT_FALSE(decrypt_payload(k, bad, h->header_len, h->packet_number))
            << (is_long ? "long" : "short") << " byte " << i << " bit " << int(bit);
      }
    }
    // Untampered still opens.
    Vec good = b.buf;
    auto h = remove_header_protection(*k.header_protector, good, b.pn_offset, 650, true);
    ASSERT_TRUE(h);
    EXPECT_TRUE(decrypt_payload(k, good, h->header_len, h->packet_number));
  }
}

TEST_P(PacketProtection, WrongKeysOrPacketNumberFail) {
  const PacketKeys k = keys(5);
  const PacketKeys other = keys(6);
  Built b = short_packet(42, 1, false, Vec(30, 0x01));
  ASSERT_NE(seal_packet(k, b.buf, b.pn_offset, 1, 42, b.payload_len), 0u);
  Vec copy = b.buf;
  auto h = remove_header_protection(*k.header_protector, copy, b.pn_offset, 41, true);
  ASSERT_TRUE(h);
  Vec copy2 = copy;
  EXPECT_FALSE(decrypt_payload(other, copy, h->header_len, h->packet_number));
  EXPECT_FALSE(decrypt_payload(k, copy2, h->header_len, h->packet_number + 256));  // nonce differs
}

TEST_P(PacketProtection, SamplePreconditionAndBufferChecks) {
  const PacketKeys k = keys(7);
  // pn_len + payload must be >= 4: 1 + 3 works, 1 + 2 does not; 4 + 0 works.
  for (auto [pn_len, payload_len, ok] : {std::tuple{1u, 3u, true}, std::tuple{1u, 2u, false},
                                         std::tuple{2u, 2u, true}, std::tuple{3u, 0u, false},
                                         std::tuple{4u, 0u, true}}) {
    Built b = short_packet(9, pn_len, false, Vec(payload_len, 0x01));
    const std::size_t n = seal_packet(k, b.buf, b.pn_offset, pn_len, 9, payload_len);
    EXPECT_EQ(n != 0, ok) << pn_len << "+" << payload_len;
    if (!ok) continue;
    // Exactly the minimum: the sample ends at the last byte of the tag.
    EXPECT_EQ(b.buf.size(), b.pn_offset + 4 + kHpSampleSize);
    auto h = remove_header_protection(*k.header_protector, b.buf, b.pn_offset, 8, true);
    ASSERT_TRUE(h);
    EXPECT_TRUE(decrypt_payload(k, b.buf, h->header_len, h->packet_number));
  }

  Built b = short_packet(9, 2, false, Vec(20, 0x01));
  EXPECT_EQ(seal_packet(k, MutBytes(b.buf).first(b.buf.size() - 1), b.pn_offset, 2, 9, 20), 0u);  // no tag room
  EXPECT_EQ(seal_packet(k, b.buf, b.pn_offset, 2, 9, 21), 0u);           // payload past the buffer
  EXPECT_EQ(seal_packet(k, b.buf, b.pn_offset, 0, 9, 20), 0u);           // pn_len 0
  EXPECT_EQ(seal_packet(k, b.buf, b.pn_offset, 5, 9, 20), 0u);           // pn_len 5
  EXPECT_EQ(seal_packet(k, b.buf, 0, 2, 9, 20), 0u);                     // no first byte
  EXPECT_EQ(seal_packet(k, b.buf, b.pn_offset, 2, 10, 20), 0u);          // encoded pn is 9
  EXPECT_EQ(seal_packet(k, b.buf, b.pn_offset, 1, 9, 20), 0u);           // first byte says 2 bytes
  EXPECT_EQ(seal_packet(k, b.buf, b.pn_offset, 2, (1ull << 62) + 9, 20), 0u);  // beyond 2^62-1
  EXPECT_EQ(seal_packet(k, b.buf, b.buf.size(), 2, 9, 20), 0u);
  EXPECT_EQ(seal_packet(PacketKeys{}, b.buf, b.pn_offset, 2, 9, 20), 0u);
  // Nothing above touched the buffer's plaintext.
  EXPECT_EQ(b.buf[b.pn_offset + 2], 0x01);
  EXPECT_NE(seal_packet(k, b.buf, b.pn_offset, 2, 9, 20), 0u);
}

TEST_P(PacketProtection, ShortPacketsAreRejectedUntouched) {
  const PacketKeys k = keys(8);
  Vec packet(1 + 8 + 19, 0x5a);  // pn_offset 9: needs 9 + 4 + 16 = 29 bytes
  const Vec before = packet;
  auto h = remove_header_protection(*k.header_protector, packet, 9, 0, false);
  EXPECT_FALSE(h);
  EXPECT_EQ(packet, before);
  EXPECT_FALSE(remove_header_protection(*k.header_protector, packet, 0, 0, false));
  EXPECT_FALSE(remove_header_protection(*k.header_protector, packet, 100, 0, false));
  EXPECT_FALSE(remove_header_protection(*k.header_protector, MutBytes(), 1, 0, false));
  packet.push_back(0);
  EXPECT_TRUE(remove_header_protection(*k.header_protector, packet, 9, 0, false));

  Vec small(20, 0);
  EXPECT_FALSE(decrypt_payload(k, small, 5, 0));   // 15 bytes left: no room for a tag
  EXPECT_FALSE(decrypt_payload(k, small, 21, 0));  // header beyond the packet
  EXPECT_FALSE(decrypt_payload(PacketKeys{}, small, 2, 0));
}

TEST_P(PacketProtection, RecoversFullPacketNumberFromTruncatedEncoding) {
  const PacketKeys k = keys(9);
  const std::uint64_t largest = 0xa82f30ea;
  const std::uint64_t pn = 0xa82f9b32;  // RFC 9000 A.3: 16 bits suffice
  Built b = short_packet(pn, 2, false, Vec(10, 0x02));
  ASSERT_NE(seal_packet(k, b.buf, b.pn_offset, 2, pn, 10), 0u);
  auto h = remove_header_protection(*k.header_protector, b.buf, b.pn_offset, largest, true);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->packet_number, pn);
  EXPECT_TRUE(decrypt_payload(k, b.buf, h->header_len, h->packet_number));
}

TEST_P(PacketProtection, ReservedBitsAreReportedAfterUnmasking) {
  const PacketKeys k = keys(10);
  Built b = short_packet(3, 1, false, Vec(8, 0x01));
  b.buf[0] |= 0x18;
  ASSERT_NE(seal_packet(k, b.buf, b.pn_offset, 1, 3, 8), 0u);
  auto h = remove_header_protection(*k.header_protector, b.buf, b.pn_offset, 2, true);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->reserved_bits_set());
  EXPECT_TRUE(decrypt_payload(k, b.buf, h->header_len, h->packet_number));
  UnprotectedHeader clean;
  clean.first_byte = 0xc3;
  EXPECT_FALSE(clean.reserved_bits_set());
  clean.first_byte = 0xc7;
  EXPECT_TRUE(clean.reserved_bits_set());
}

INSTANTIATE_TEST_SUITE_P(All, PacketProtection,
                         ::testing::Combine(::testing::ValuesIn(test::kAllAlgorithms),
                                            ::testing::Values(Backend::kGnuTls, Backend::kOpenSsl)),
                         test::AlgorithmBackendName());

TEST(PacketProtectionCross, BackendsProduceIdenticalPackets) {
  SeededRandom rng(31337);
  for (AeadAlgorithm a : test::kAllAlgorithms) {
    for (int i = 0; i < 20; ++i) {
      const Vec secret = test::random_bytes(rng, hash_size(aead_hash(a)));
      auto g = derive_packet_keys(a, secret, Backend::kGnuTls);
      auto o = derive_packet_keys(a, secret, Backend::kOpenSsl);
      ASSERT_TRUE(g && o);
      const std::uint64_t pn = rng.uniform(1u << 30);
      const std::size_t pn_len = 1 + rng.uniform(4);
      const std::uint64_t enc = pn & ((std::uint64_t{1} << (8 * pn_len)) - 1);
      const Vec payload = test::random_bytes(rng, 4 + rng.uniform(1400));
      Built bg = short_packet(enc, pn_len, (i & 1) != 0, payload);
      Built bo = bg;
      ASSERT_NE(seal_packet(*g, bg.buf, bg.pn_offset, pn_len, pn, bg.payload_len), 0u);
      ASSERT_NE(seal_packet(*o, bo.buf, bo.pn_offset, pn_len, pn, bo.payload_len), 0u);
      EXPECT_EQ(bg.buf, bo.buf) << test::algorithm_name(a) << " #" << i;
      // Mixed: sealed by one backend, opened by the other.
      auto h = remove_header_protection(*o->header_protector, bg.buf, bg.pn_offset, pn, true);
      ASSERT_TRUE(h);
      auto plain = decrypt_payload(*o, bg.buf, h->header_len, h->packet_number);
      ASSERT_TRUE(plain);
      EXPECT_EQ(Vec(plain->begin(), plain->end()), payload);
    }
  }
}

}  // namespace
}  // namespace roam::crypto
