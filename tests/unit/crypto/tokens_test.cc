// Stateless reset tokens, address-validation token protection, and SystemRandom.
#include "crypto/tokens.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "common/random.h"
#include "crypto/system_random.h"
#include "spec_vectors.h"
#include "test_util.h"

namespace roam::crypto {
namespace {

using testing::hex;
using testing::to_hex;
using Vec = std::vector<std::uint8_t>;

Vec key32() {
  Vec k(32);
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i);
  return k;
}

TEST(StatelessResetToken, IsTruncatedHmacSha256) {
  // Expected values computed independently (Python hmac/hashlib).
  const ConnectionId cid{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  const auto token = stateless_reset_token(key32(), cid);
  EXPECT_EQ(to_hex(Vec(token.begin(), token.end())), "50b5d256607ba9fa7686ff5cea8c78c9");
  const auto empty_cid = stateless_reset_token(key32(), ConnectionId{});
  EXPECT_EQ(to_hex(Vec(empty_cid.begin(), empty_cid.end())), "d38b42096d80f45f826b44a9d5607de7");
}

TEST(StatelessResetToken, DeterministicPerKeyAndCid) {
  const ConnectionId a{1, 2, 3, 4};
  const ConnectionId b{1, 2, 3, 5};
  Vec other_key = key32();
  other_key[0] ^= 1;
  EXPECT_EQ(stateless_reset_token(key32(), a), stateless_reset_token(key32(), a));
  EXPECT_NE(stateless_reset_token(key32(), a), stateless_reset_token(key32(), b));
  EXPECT_NE(stateless_reset_token(key32(), a), stateless_reset_token(other_key, a));
}

class Tokens : public ::testing::TestWithParam<Backend> {};

TEST_P(Tokens, SealOpenRoundTrip) {
  SeededRandom rng(1);
  auto cipher = TokenCipher::create(key32(), rng, GetParam());
  ASSERT_TRUE(cipher);
  const Vec plaintext = hex("0102030405060708090a0b0c0d0e0f10");
  const Vec aad = hex("c0a80001115c");  // e.g. the client address
  auto token = cipher->seal(plaintext, aad);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->size(), plaintext.size() + TokenCipher::kOverhead);
  auto opened = cipher->open(*token, aad);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, plaintext);

  auto empty = cipher->seal({});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size(), TokenCipher::kOverhead);
  auto opened_empty = cipher->open(*empty);
  ASSERT_TRUE(opened_empty);
  EXPECT_TRUE(opened_empty->empty());
}

TEST_P(Tokens, RejectsTamperingWrongContextAndWrongKey) {
  SeededRandom rng(2);
  auto cipher = TokenCipher::create(key32(), rng, GetParam());
  ASSERT_TRUE(cipher);
  const Vec aad = hex("0a000001");
  auto token = cipher->seal(hex("deadbeef"), aad);
  ASSERT_TRUE(token);
  for (std::size_t i = 0; i < token->size(); ++i) {
    Vec bad = *token;
    bad[i] ^= 0x04;
    auto r = cipher->open(bad, aad);
    ASSERT_FALSE(r) << "byte " << i;
    EXPECT_EQ(r.error().code, TransportError::kInvalidToken);
  }
  EXPECT_FALSE(cipher->open(*token, hex("0a000002")));  // another address
  EXPECT_FALSE(cipher->open(*token));
  EXPECT_FALSE(cipher->open(Bytes(*token).first(TokenCipher::kOverhead - 1), aad));
  EXPECT_FALSE(cipher->open({}, aad));

  Vec other = key32();
  other[31] ^= 0xff;
  auto other_cipher = TokenCipher::create(other, rng, GetParam());
  ASSERT_TRUE(other_cipher);
  EXPECT_FALSE(other_cipher->open(*token, aad));
}

TEST_P(Tokens, EveryTokenHasAFreshNonce) {
  SeededRandom rng(3);
  auto cipher = TokenCipher::create(key32(), rng, GetParam());
  ASSERT_TRUE(cipher);
  std::set<Vec> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = cipher->seal(hex("00"));
    ASSERT_TRUE(t);
    EXPECT_TRUE(seen.insert(*t).second);
  }
}

TEST_P(Tokens, RejectsWrongKeySize) {
  SeededRandom rng(4);
  EXPECT_FALSE(TokenCipher::create(Bytes(key32()).first(16), rng, GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Backends, Tokens, ::testing::Values(Backend::kGnuTls, Backend::kOpenSsl),
                         test::BackendName());

TEST(Tokens, BackendsInteroperate) {
  SeededRandom rng_a(5), rng_b(5);
  auto g = TokenCipher::create(key32(), rng_a, Backend::kGnuTls);
  auto o = TokenCipher::create(key32(), rng_b, Backend::kOpenSsl);
  ASSERT_TRUE(g && o);
  auto tg = g->seal(hex("abcdef"), hex("01"));
  auto to = o->seal(hex("abcdef"), hex("01"));
  ASSERT_TRUE(tg && to);
  EXPECT_EQ(*tg, *to);  // same nonce from the same seed, same key: same token
  auto opened = o->open(*tg, hex("01"));
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, hex("abcdef"));
}

TEST(SystemRandom, FillsWithFreshBytes) {
  SystemRandom rng;
  Vec a(64), b(64);
  rng.fill(a);
  rng.fill(b);
  EXPECT_NE(a, b);
  EXPECT_NE(a, Vec(64, 0));
  rng.fill(MutBytes());  // no-op
  Random& base = rng;
  std::set<std::uint64_t> values;
  for (int i = 0; i < 100; ++i) values.insert(base.next_u64());
  EXPECT_EQ(values.size(), 100u);
}

}  // namespace
}  // namespace roam::crypto
