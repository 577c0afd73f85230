// The AEAD and header-protection backends: agreement between GnuTLS and OpenSSL on random
// inputs, in-place and out-of-place use, tamper detection, and argument checks.
#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "common/random.h"
#include "crypto/header_protection.h"
#include "test_util.h"

namespace roam::crypto {
namespace {

using test::kAllAlgorithms;
using test::random_bytes;
using Vec = std::vector<std::uint8_t>;

class AeadAlgorithms : public ::testing::TestWithParam<AeadAlgorithm> {};

std::unique_ptr<Aead> make(AeadAlgorithm a, Bytes key, Backend b) {
  auto r = make_aead(a, key, b);
  EXPECT_TRUE(r) << (r ? "" : r.error().reason);
  return r ? std::move(r.value()) : nullptr;
}

Vec seal_copy(const Aead& aead, Bytes nonce, Bytes aad, Bytes pt) {
  Vec out(pt.size() + kAeadTagSize);
  EXPECT_TRUE(aead.seal(Nonce(nonce.data(), kAeadNonceSize), aad, pt, out));
  return out;
}

TEST_P(AeadAlgorithms, BackendsProduceIdenticalCiphertext) {
  SeededRandom rng(0xc0ffee + static_cast<int>(GetParam()));
  for (std::size_t len : {0u, 1u, 15u, 16u, 17u, 63u, 64u, 255u, 1200u, 1350u, 1452u, 16384u}) {
    const Vec key = random_bytes(rng, aead_key_size(GetParam()));
    const Vec nonce = random_bytes(rng, kAeadNonceSize);
    const Vec aad = random_bytes(rng, len % 40);
    const Vec pt = random_bytes(rng, len);
    auto g = make(GetParam(), key, Backend::kGnuTls);
    auto o = make(GetParam(), key, Backend::kOpenSsl);
    ASSERT_TRUE(g && o);
    EXPECT_EQ(g->backend(), Backend::kGnuTls);
    EXPECT_EQ(o->backend(), Backend::kOpenSsl);
    const Vec cg = seal_copy(*g, nonce, aad, pt);
    const Vec co = seal_copy(*o, nonce, aad, pt);
    EXPECT_EQ(cg, co) << "len " << len;

    // Each opens what the other sealed, out of place and in place.
    Vec out(len);
    EXPECT_TRUE(g->open(Nonce(nonce.data(), 12), aad, co, out));
    EXPECT_EQ(out, pt);
    Vec inplace = cg;
    EXPECT_TRUE(o->open(Nonce(nonce.data(), 12), aad, inplace, inplace));
    EXPECT_TRUE(std::equal(pt.begin(), pt.end(), inplace.begin()));
  }
}

TEST_P(AeadAlgorithms, InPlaceSealEqualsOutOfPlace) {
  SeededRandom rng(7);
  for (Backend b : {Backend::kGnuTls, Backend::kOpenSsl}) {
    const Vec key = random_bytes(rng, aead_key_size(GetParam()));
    const Vec nonce = random_bytes(rng, 12);
    const Vec aad = random_bytes(rng, 21);
    const Vec pt = random_bytes(rng, 1000);
    auto aead = make(GetParam(), key, b);
    ASSERT_TRUE(aead);
    const Vec expected = seal_copy(*aead, nonce, aad, pt);
    Vec buf = pt;
    buf.resize(pt.size() + kAeadTagSize);
    ASSERT_TRUE(aead->seal(Nonce(nonce.data(), 12), aad, Bytes(buf).first(pt.size()), buf));
    EXPECT_EQ(buf, expected) << to_string(b);
    // The context is reused: a second seal with the same inputs gives the same output.
    EXPECT_EQ(seal_copy(*aead, nonce, aad, pt), expected);
  }
}

TEST_P(AeadAlgorithms, AnyFlippedBitFailsAndReleasesNoPlaintext) {
  SeededRandom rng(11);
  for (Backend b : {Backend::kGnuTls, Backend::kOpenSsl}) {
    const Vec key = random_bytes(rng, aead_key_size(GetParam()));
    const Vec nonce = random_bytes(rng, 12);
    const Vec aad = random_bytes(rng, 9);
    const Vec pt = random_bytes(rng, 40);
    auto aead = make(GetParam(), key, b);
    ASSERT_TRUE(aead);
    const Vec ct = seal_copy(*aead, nonce, aad, pt);
    for (std::size_t i = 0; i < ct.size(); ++i) {
      Vec bad = ct;
      bad[i] ^= 0x80;
      EXPECT_FALSE(aead->open(Nonce(nonce.data(), 12), aad, bad, bad)) << to_string(b) << " byte " << i;
      EXPECT_TRUE(std::all_of(bad.begin(), bad.begin() + 40, [](std::uint8_t x) { return x == 0; }))
          << "unverified plaintext left in the buffer";
    }
    for (std::size_t i = 0; i < aad.size(); ++i) {
      Vec bad_aad = aad;
      bad_aad[i] ^= 0x01;
      Vec out(pt.size());
      EXPECT_FALSE(aead->open(Nonce(nonce.data(), 12), bad_aad, ct, out));
    }
    Vec bad_nonce = nonce;
    bad_nonce[11] ^= 1;
    Vec out(pt.size());
    EXPECT_FALSE(aead->open(Nonce(bad_nonce.data(), 12), aad, ct, out));
    // And after all those failures the context still opens the genuine ciphertext.
    EXPECT_TRUE(aead->open(Nonce(nonce.data(), 12), aad, ct, out));
    EXPECT_EQ(out, pt);
  }
}

TEST_P(AeadAlgorithms, RejectsWrongSizes) {
  const Vec key(aead_key_size(GetParam()), 0x42);
  EXPECT_FALSE(make_aead(GetParam(), Bytes(key).first(key.size() - 1)));
  Vec longer = key;
  longer.push_back(0);
  EXPECT_FALSE(make_aead(GetParam(), longer));
  for (Backend b : {Backend::kGnuTls, Backend::kOpenSsl}) {
    auto aead = make(GetParam(), key, b);
    ASSERT_TRUE(aead);
    const Vec nonce(12, 1);
    Vec pt(32, 5);
    Vec small(pt.size() + kAeadTagSize - 1);
    EXPECT_FALSE(aead->seal(Nonce(nonce.data(), 12), {}, pt, small));
    Vec too_short(kAeadTagSize - 1);
    Vec out(16);
    EXPECT_FALSE(aead->open(Nonce(nonce.data(), 12), {}, too_short, out));
    const Vec ct = seal_copy(*aead, nonce, {}, pt);
    Vec small_out(pt.size() - 1);
    EXPECT_FALSE(aead->open(Nonce(nonce.data(), 12), {}, ct, small_out));
  }
}

TEST_P(AeadAlgorithms, HeaderProtectionBackendsAgree) {
  SeededRandom rng(99);
  for (int i = 0; i < 200; ++i) {
    const Vec key = random_bytes(rng, hp_key_size(GetParam()));
    const Vec sample = random_bytes(rng, kHpSampleSize);
    auto g = make_header_protector(GetParam(), key, Backend::kGnuTls);
    auto o = make_header_protector(GetParam(), key, Backend::kOpenSsl);
    ASSERT_TRUE(g && o);
    HpMask mg, mo;
    ASSERT_TRUE((*g)->mask(HpSample(sample.data(), 16), mg));
    ASSERT_TRUE((*o)->mask(HpSample(sample.data(), 16), mo));
    EXPECT_EQ(mg, mo);
    // Reused context: the next mask with the same sample is unchanged (no chaining state).
    HpMask again;
    ASSERT_TRUE((*g)->mask(HpSample(sample.data(), 16), again));
    EXPECT_EQ(again, mg);
    ASSERT_TRUE((*o)->mask(HpSample(sample.data(), 16), again));
    EXPECT_EQ(again, mo);
  }
  EXPECT_FALSE(make_header_protector(GetParam(), Vec(hp_key_size(GetParam()) + 1, 0)));
}

INSTANTIATE_TEST_SUITE_P(All, AeadAlgorithms, ::testing::ValuesIn(kAllAlgorithms),
                         test::AlgorithmName());

TEST(AeadFactory, AutoPicksTheMeasuredBackend) {
  for (AeadAlgorithm a : kAllAlgorithms) {
    auto aead = make_aead(a, Vec(aead_key_size(a), 1));
    ASSERT_TRUE(aead);
    EXPECT_EQ((*aead)->backend(), choose_backend(a, Backend::kAuto));
    EXPECT_NE((*aead)->backend(), Backend::kAuto);
    auto hp = make_header_protector(a, Vec(hp_key_size(a), 1));
    ASSERT_TRUE(hp);
    EXPECT_EQ((*hp)->backend(), choose_hp_backend(a, Backend::kAuto));
    EXPECT_EQ(choose_backend(a, Backend::kOpenSsl), Backend::kOpenSsl);
    EXPECT_EQ(choose_backend(a, Backend::kGnuTls), Backend::kGnuTls);
  }
  // ChaCha20 through GnuTLS/nettle is an order of magnitude slower here (PERFORMANCE-NOTES.md).
  EXPECT_EQ(choose_backend(AeadAlgorithm::kChaCha20Poly1305, Backend::kAuto), Backend::kOpenSsl);
}

TEST(AeadLimits, Rfc9001Section66) {
  EXPECT_EQ(confidentiality_limit(AeadAlgorithm::kAes128Gcm), 1ull << 23);
  EXPECT_EQ(confidentiality_limit(AeadAlgorithm::kAes256Gcm), 1ull << 23);
  EXPECT_GE(confidentiality_limit(AeadAlgorithm::kChaCha20Poly1305), 1ull << 62);
  EXPECT_EQ(integrity_limit(AeadAlgorithm::kAes128Gcm), 1ull << 52);
  EXPECT_EQ(integrity_limit(AeadAlgorithm::kAes256Gcm), 1ull << 52);
  EXPECT_EQ(integrity_limit(AeadAlgorithm::kChaCha20Poly1305), 1ull << 36);
}

}  // namespace
}  // namespace roam::crypto
