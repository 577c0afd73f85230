// QUIC-LB codec against the draft's test vectors (Appendix B, vendored in tests/lb/data), the
// worked four-pass example of section 5.4.2.4, round trips for every length the draft allows, and
// garbage in: any bytes give a server ID or "unroutable", never a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/random.h"
#include "lb/codec.h"
#include "lb/four_pass.h"

namespace roam::lb {
namespace {

std::basic_string<std::uint8_t> hex(std::string_view h) {
  std::basic_string<std::uint8_t> out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

Bytes bytes(const std::basic_string<std::uint8_t>& s) { return {s.data(), s.size()}; }

Key key_of(std::string_view h) {
  auto k = parse_key(h);
  EXPECT_TRUE(k.ok());
  return k.ok() ? *k : Key{};
}

constexpr std::string_view kVectorKey = "8f95f09245765f80256934e50c66207f";

struct Vector {
  bool encrypted;
  int cr_bits;
  std::string_view sid, nonce, cid;  // the true values
  // What Appendix B prints when it differs from the truth (see tests/lb/data/README.md).
  std::string_view printed_nonce = {}, printed_cid = {};
};

// Appendix B, "In all cases, the server is configured to encode the CID length."
const std::vector<Vector>& vectors() {
  static const std::vector<Vector> v = {
      {false, 0, "c4605e", "4504cc4f", "07c4605e4504cc4f"},
      // Corrected: the table drops leading zeros from the nonce (9 hex digits) and prints the
      // first octet 0x2a as "20a". Config rotation 1, length 11 - 1 = 10: 0b001_01010 = 0x2a.
      {false, 1, "350d28b420", "03487d970b", "2a350d28b42003487d970b", "3487d970b", "20a350d28b4203487d970b"},
      {true, 0, "ed793a", "ee080dbf", "0720b1d07b359d3c"},                                   // four-pass, 3 decode passes
      {true, 1, "ed793a51d49b8f5fab65", "ee080dbf48", "2fcc381bc74cb4fbad2823a3d1f8fed2"},   // four-pass, 4 passes
      {true, 2, "ed793a51d49b8f5f", "ee080dbf48c0d1e5", "504dd2d05a7b0de9b2b9907afb5ecf8cc3"},  // single pass
      // Corrected: the table prints first octet 0x12 (config rotation 0, length 18); with config
      // rotation 3 it is 0b011_10010 = 0x72. The first octet is not encrypted; the rest is right.
      {true, 3, "ed793a51d49b8f5fab", "ee080dbf48c0d1e55d", "725779c9cc86beb3a3a4a3ca96fce4bfe0cdbc", {},
       "125779c9cc86beb3a3a4a3ca96fce4bfe0cdbc"},
  };
  return v;
}

Config config_for(const Vector& v) {
  Config c;
  c.id = static_cast<std::uint8_t>(v.cr_bits);
  c.server_id_len = v.sid.size() / 2;
  c.nonce_len = v.nonce.size() / 2;
  if (v.encrypted) c.key = key_of(kVectorKey);
  return c;
}

TEST(LbVectors, EncodeMatchesAppendixB) {
  for (const Vector& v : vectors()) {
    SCOPED_TRACE(std::string(v.cid));
    auto codec = CidCodec::create(config_for(v));
    ASSERT_TRUE(codec.ok()) << codec.error().message;
    auto sid = hex(v.sid), nonce = hex(v.nonce);
    auto cid = codec->encode(bytes(sid), bytes(nonce));
    ASSERT_TRUE(cid.ok()) << cid.error().message;
    EXPECT_EQ(cid->hex(), v.cid);
  }
}

TEST(LbVectors, DecodeMatchesAppendixB) {
  for (const Vector& v : vectors()) {
    SCOPED_TRACE(std::string(v.cid));
    auto codec = CidCodec::create(config_for(v));
    ASSERT_TRUE(codec.ok());
    auto cid = hex(v.cid);
    auto sid = codec->server_id(bytes(cid));
    ASSERT_TRUE(sid.has_value());
    EXPECT_EQ(sid->hex(), v.sid);
    auto plain = codec->decrypt(bytes(cid));
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(plain->server_id.hex(), v.sid);
    EXPECT_EQ(plain->nonce.hex(), v.nonce);
    // A short header: the CID is followed by the rest of the packet.
    auto packet = cid + hex("4142434445464748494a4b4c4d4e4f50");
    auto in_prefix = codec->server_id_in_prefix(bytes(packet));
    ASSERT_TRUE(in_prefix.has_value());
    EXPECT_EQ(in_prefix->hex(), v.sid);
  }
}

TEST(LbVectors, UncorrectedRowsDoNotDecode) {
  // As printed, the corrected rows are not valid CIDs for their configs: the tests would notice a
  // codec that accepted them.
  for (const Vector& v : vectors()) {
    if (v.printed_cid.empty()) continue;
    SCOPED_TRACE(std::string(v.printed_cid));
    auto codec = CidCodec::create(config_for(v));
    ASSERT_TRUE(codec.ok());
    auto printed = hex(v.printed_cid);
    EXPECT_FALSE(codec->server_id(bytes(printed)).has_value());
  }
}

// Reads the rows of the vendored Appendix B: "cr_bits sid nonce cid", the cid possibly on the
// next line (the encrypted table wraps long rows).
std::vector<std::vector<std::string>> appendix_rows(bool encrypted) {
  std::ifstream in(std::string(ROAM_SOURCE_DIR) + "/tests/lb/data/quic-lb-test-vectors.md");
  std::vector<std::vector<std::string>> rows;
  std::string line;
  bool in_section = false, in_block = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line == (encrypted ? "## Encrypted CIDs" : "## Unencrypted CIDs");
    if (!in_section) continue;
    if (line.rfind("~~~", 0) == 0) {
      in_block = !in_block;
      continue;
    }
    if (!in_block) continue;
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (w.empty() || w[0] == "cr_bits") continue;
    if (w.size() == 1 && !rows.empty() && rows.back().size() == 3) {
      rows.back().push_back(w[0]);
    } else {
      rows.push_back(w);
    }
  }
  return rows;
}

TEST(LbVectors, TableIsAppendixBAsPrinted) {
  // Guards against transcription mistakes: every row above, with its printed values, is the row
  // of the vendored document.
  std::vector<std::vector<std::string>> expected[2];
  for (const Vector& v : vectors()) {
    expected[v.encrypted].push_back({std::to_string(v.cr_bits), std::string(v.sid),
                                     std::string(v.printed_nonce.empty() ? v.nonce : v.printed_nonce),
                                     std::string(v.printed_cid.empty() ? v.cid : v.printed_cid)});
  }
  EXPECT_EQ(appendix_rows(false), expected[0]);
  EXPECT_EQ(appendix_rows(true), expected[1]);
  EXPECT_EQ(appendix_rows(true).size(), 4u) << "cannot read tests/lb/data/quic-lb-test-vectors.md";
}

TEST(LbVectors, WorkedFourPassExample) {
  // Section 5.4.2.4, step by step to the CID 0x0767947d29be054a. (Its step 10 prints the AES
  // output as 0xb3e4357c in the XOR line; the line above has 0xb334357c, which is right.)
  auto aes = AesEcb::create(key_of("fdf726a9893ec05c0632d3956680baf0"));
  ASSERT_TRUE(aes.has_value());
  Block in{}, out{};
  auto left0 = hex("31441a90");
  std::copy(left0.begin(), left0.end(), in.begin());
  in[14] = 7;
  in[15] = 1;
  ASSERT_TRUE(aes->encrypt(in, out));
  EXPECT_EQ(to_hex(out), "a255dd8cdacf01948d3a848c3c7fee23");  // step 3

  auto plain = hex("31441a9c69c275");
  ASSERT_TRUE(four_pass_encrypt(*aes, MutBytes(plain.data(), plain.size())));
  EXPECT_EQ(to_hex(bytes(plain)), "67947d29be054a");
  ASSERT_TRUE(four_pass_decrypt(*aes, MutBytes(plain.data(), plain.size())));
  EXPECT_EQ(to_hex(bytes(plain)), "31441a9c69c275");

  Config c;
  c.id = 0;
  c.server_id_len = 3;
  c.nonce_len = 4;
  c.key = key_of("fdf726a9893ec05c0632d3956680baf0");
  auto codec = CidCodec::create(c);
  ASSERT_TRUE(codec.ok());
  auto sid = hex("31441a"), nonce = hex("9c69c275");
  auto cid = codec->encode(bytes(sid), bytes(nonce));
  ASSERT_TRUE(cid.ok());
  EXPECT_EQ(cid->hex(), "0767947d29be054a");
}

TEST(LbVectors, ThreePassDecodeLeavesOnlyTheLeftHalf) {
  // With all_passes = false only left_0 is plaintext: for the odd example, 3 octets.
  auto aes = AesEcb::create(key_of("fdf726a9893ec05c0632d3956680baf0"));
  ASSERT_TRUE(aes.has_value());
  auto data = hex("67947d29be054a");
  ASSERT_TRUE(four_pass_decrypt(*aes, MutBytes(data.data(), data.size()), false));
  EXPECT_EQ(to_hex(Bytes(data.data(), 3)), "31441a");
  EXPECT_NE(to_hex(bytes(data)), "31441a9c69c275");
}

// Every server ID length / nonce length pair the draft allows, with and without a key (so both
// the single-pass case 16 and four-pass for every other sum), with and without length encoding.
TEST(LbRoundTrip, EveryAllowedLengthPair) {
  SeededRandom rng(7);
  int pairs = 0;
  for (std::size_t sid_len = kMinServerIdLen; sid_len <= kMaxServerIdLen; ++sid_len) {
    for (std::size_t nonce_len = kMinNonceLen; sid_len + nonce_len <= kMaxPlaintextLen; ++nonce_len) {
      ++pairs;
      for (int variant = 0; variant < 4; ++variant) {
        Config c;
        c.id = static_cast<std::uint8_t>((sid_len + nonce_len + variant) % 7);
        c.server_id_len = sid_len;
        c.nonce_len = nonce_len;
        if (variant & 1) {
          Key k;
          rng.fill(k);
          c.key = k;
        }
        c.encode_length = (variant & 2) == 0;
        SCOPED_TRACE("sid " + std::to_string(sid_len) + " nonce " + std::to_string(nonce_len) + " variant " +
                     std::to_string(variant));
        auto codec = CidCodec::create(c);
        ASSERT_TRUE(codec.ok()) << codec.error().message;
        EXPECT_EQ(codec->algorithm(), !c.key ? Algorithm::kPlaintext
                                      : sid_len + nonce_len == 16 ? Algorithm::kSinglePass
                                                                  : Algorithm::kFourPass);
        for (int round = 0; round < 8; ++round) {
          std::uint8_t sid[kMaxServerIdLen], nonce[kMaxNonceLen], bits;
          rng.fill(MutBytes(sid, sid_len));
          rng.fill(MutBytes(nonce, nonce_len));
          rng.fill(MutBytes(&bits, 1));
          auto cid = codec->encode(Bytes(sid, sid_len), Bytes(nonce, nonce_len), {}, bits);
          ASSERT_TRUE(cid.ok());
          ASSERT_EQ(cid->size(), 1 + sid_len + nonce_len);
          EXPECT_EQ(config_id_of((*cid)[0]), c.id);
          EXPECT_EQ((*cid)[0] & kLengthMask, c.encode_length ? cid->size() - 1 : (bits & kLengthMask));
          if (c.key) {
            // Encrypted: the server ID does not show (a 2^-8 chance per octet of coinciding).
            EXPECT_FALSE(sid_len >= 2 && std::equal(sid, sid + sid_len, cid->data() + 1));
          } else {
            EXPECT_TRUE(std::equal(sid, sid + sid_len, cid->data() + 1));
          }
          auto got = codec->server_id(cid->bytes());
          ASSERT_TRUE(got.has_value());
          EXPECT_EQ(*got, ServerId(Bytes(sid, sid_len)));
          auto plain = codec->decrypt(cid->bytes());
          ASSERT_TRUE(plain.has_value());
          EXPECT_EQ(plain->server_id, ServerId(Bytes(sid, sid_len)));
          EXPECT_EQ(plain->nonce, Nonce(Bytes(nonce, nonce_len)));
          std::vector<std::uint8_t> packet(cid->data(), cid->data() + cid->size());
          packet.insert(packet.end(), {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99});
          auto prefix = codec->server_id_in_prefix(packet);
          ASSERT_TRUE(prefix.has_value());
          EXPECT_EQ(*prefix, ServerId(Bytes(sid, sid_len)));
        }
      }
    }
  }
  EXPECT_EQ(pairs, 120);  // sid 1..15 with nonce 4..(19 - sid)
}

TEST(LbRoundTrip, SuffixCountsInTheSelfDescribedLength) {
  Config c;
  c.id = 2;
  c.server_id_len = 4;
  c.nonce_len = 6;
  c.key = key_of(kVectorKey);
  auto codec = CidCodec::create(c);
  ASSERT_TRUE(codec.ok());
  auto sid = hex("0a0b0c0d"), nonce = hex("010203040506");
  const std::uint8_t suffix[] = {0x07, 0x08};
  auto cid = codec->encode(bytes(sid), bytes(nonce), suffix);
  ASSERT_TRUE(cid.ok());
  ASSERT_EQ(cid->size(), 13u);
  EXPECT_EQ((*cid)[0], 2 << 5 | 12);
  EXPECT_EQ((*cid)[11], 0x07);
  EXPECT_EQ((*cid)[12], 0x08);
  auto got = codec->server_id(cid->bytes());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->hex(), "0a0b0c0d");
}

TEST(LbCodec, EncodeRejectsWrongLengths) {
  Config c;
  c.server_id_len = 3;
  c.nonce_len = 4;
  auto codec = CidCodec::create(c);
  ASSERT_TRUE(codec.ok());
  auto sid = hex("0a0b0c"), nonce = hex("01020304"), short_sid = hex("0a0b"), long_nonce = hex("0102030405");
  EXPECT_FALSE(codec->encode(bytes(short_sid), bytes(nonce)).ok());
  EXPECT_FALSE(codec->encode(bytes(sid), bytes(long_nonce)).ok());
  std::vector<std::uint8_t> suffix(13, 0);  // 8 + 13 = 21 octets
  EXPECT_FALSE(codec->encode(bytes(sid), bytes(nonce), suffix).ok());
  suffix.resize(12);
  EXPECT_TRUE(codec->encode(bytes(sid), bytes(nonce), suffix).ok());
}

TEST(LbCodec, InvalidConfigsAreRefused) {
  auto make = [](int id, std::size_t sid, std::size_t nonce) {
    Config c;
    c.id = static_cast<std::uint8_t>(id);
    c.server_id_len = sid;
    c.nonce_len = nonce;
    return CidCodec::create(c);
  };
  EXPECT_TRUE(make(0, 1, 4).ok());
  EXPECT_TRUE(make(6, 15, 4).ok());
  EXPECT_TRUE(make(0, 1, 18).ok());
  EXPECT_FALSE(make(7, 3, 4).ok());   // 0b111 is reserved
  EXPECT_FALSE(make(0, 0, 4).ok());   // server ID >= 1
  EXPECT_FALSE(make(0, 3, 3).ok());   // nonce >= 4
  EXPECT_FALSE(make(0, 16, 4).ok());  // sum > 19
  EXPECT_FALSE(make(0, 10, 10).ok());
  auto err = make(0, 10, 10);
  EXPECT_NE(err.error().message.find("19"), std::string::npos) << err.error().message;
}

class LbGarbage : public ::testing::Test {
 protected:
  static CidCodec codec(std::size_t sid, std::size_t nonce, bool key, bool encode_length = true) {
    Config c;
    c.id = 1;
    c.server_id_len = sid;
    c.nonce_len = nonce;
    if (key) c.key = key_of(kVectorKey);
    c.encode_length = encode_length;
    auto r = CidCodec::create(c);
    EXPECT_TRUE(r.ok());
    return std::move(r.value());
  }
};

TEST_F(LbGarbage, ShortOrMismatchedCidsAreUnroutable) {
  for (bool key : {false, true}) {
    for (auto [sid, nonce] : {std::pair<std::size_t, std::size_t>{3, 4}, {8, 8}, {10, 5}}) {
      auto c = codec(sid, nonce, key);
      SeededRandom rng(sid * 31 + nonce);
      std::uint8_t buf[20];
      rng.fill(buf);
      const std::size_t len = 1 + sid + nonce;
      buf[0] = static_cast<std::uint8_t>(1 << 5 | (len - 1));
      EXPECT_TRUE(c.server_id(Bytes(buf, len)).has_value());
      EXPECT_FALSE(c.server_id(Bytes(buf, 0)).has_value());
      for (std::size_t n = 1; n < len; ++n) {
        buf[0] = static_cast<std::uint8_t>(1 << 5 | (n - 1));  // even with a matching length octet
        EXPECT_FALSE(c.server_id(Bytes(buf, n)).has_value()) << n;
        EXPECT_FALSE(c.server_id_in_prefix(Bytes(buf, n)).has_value()) << n;
        EXPECT_FALSE(c.decrypt(Bytes(buf, n)).has_value()) << n;
      }
      buf[0] = static_cast<std::uint8_t>(2 << 5 | (len - 1));  // other config
      EXPECT_FALSE(c.server_id(Bytes(buf, len)).has_value());
      buf[0] = static_cast<std::uint8_t>(7 << 5 | (len - 1));  // 0b111: unroutable by definition
      EXPECT_FALSE(c.server_id(Bytes(buf, len)).has_value());
      buf[0] = static_cast<std::uint8_t>(1 << 5 | len);  // says one octet more than it has
      EXPECT_FALSE(c.server_id(Bytes(buf, len)).has_value());
      EXPECT_FALSE(c.server_id_in_prefix(Bytes(buf, len)).has_value());
      buf[0] = static_cast<std::uint8_t>(1 << 5 | (len - 2));  // too short for the config
      EXPECT_FALSE(c.server_id_in_prefix(Bytes(buf, 20)).has_value());
      EXPECT_FALSE(c.server_id(Bytes(buf, len - 1)).has_value());
      // Without length encoding the low bits are random and not checked.
      auto loose = codec(sid, nonce, key, false);
      buf[0] = static_cast<std::uint8_t>(1 << 5 | 0x1f);
      EXPECT_TRUE(loose.server_id(Bytes(buf, len)).has_value());
      EXPECT_FALSE(loose.server_id(Bytes(buf, len - 1)).has_value());
    }
  }
}

TEST_F(LbGarbage, RandomBytesNeverCrash) {
  // Every length 0..40 with random content through every decoder; results are checked against
  // the acceptance rules (exact length, config bits).
  SeededRandom rng(99);
  for (bool key : {false, true}) {
    for (auto [sid, nonce] : {std::pair<std::size_t, std::size_t>{1, 4}, {3, 4}, {8, 8}, {15, 4}, {1, 18}}) {
      auto c = codec(sid, nonce, key);
      for (int i = 0; i < 2000; ++i) {
        std::uint8_t buf[40];
        rng.fill(buf);
        const std::size_t n = rng.uniform(41);
        const Bytes in(buf, n);
        const bool plausible = n >= 1 + sid + nonce && config_id_of(buf[0]) == 1;
        auto s = c.server_id(in);
        auto p = c.decrypt(in);
        auto q = c.server_id_in_prefix(in);
        EXPECT_EQ(s.has_value(), plausible && (buf[0] & kLengthMask) == n - 1);
        EXPECT_EQ(p.has_value(), s.has_value());
        if (s && p) {
          EXPECT_EQ(*s, p->server_id);
        }
        if (q) {
          EXPECT_TRUE(plausible);
        }
      }
    }
  }
}

}  // namespace
}  // namespace roam::lb
