// HKDF: RFC 5869 test cases 1 and 3 (SHA-256), and agreement with OpenSSL's independent HKDF for
// SHA-256 and SHA-384 (the SHA-384 path has no RFC 9001 sample).
#include "crypto/hkdf.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <vector>

#include "common/random.h"
#include "spec_vectors.h"
#include "test_util.h"

namespace roam::crypto {
namespace {

using testing::hex;
using testing::to_hex;
using Vec = std::vector<std::uint8_t>;

std::string hex_of(Bytes b) { return to_hex(Vec(b.begin(), b.end())); }

TEST(Hkdf, Rfc5869Case1) {
  const Vec ikm(22, 0x0b);
  const Vec salt = hex("000102030405060708090a0b0c");
  const Vec info = hex("f0f1f2f3f4f5f6f7f8f9");
  auto prk = hkdf_extract(HashAlgorithm::kSha256, salt, ikm);
  ASSERT_TRUE(prk);
  EXPECT_EQ(hex_of(prk->bytes()), "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  Vec okm(42);
  ASSERT_TRUE(hkdf_expand(HashAlgorithm::kSha256, prk->bytes(), info, okm));
  EXPECT_EQ(to_hex(okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Hkdf, Rfc5869Case3EmptySaltAndInfo) {
  const Vec ikm(22, 0x0b);
  auto prk = hkdf_extract(HashAlgorithm::kSha256, {}, ikm);
  ASSERT_TRUE(prk);
  EXPECT_EQ(hex_of(prk->bytes()), "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
  Vec okm(42);
  ASSERT_TRUE(hkdf_expand(HashAlgorithm::kSha256, prk->bytes(), {}, okm));
  EXPECT_EQ(to_hex(okm), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

// OpenSSL's HKDF (EVP_KDF "HKDF") in extract-only and expand-only modes.
Vec openssl_hkdf(const char* digest, int mode, Bytes key, Bytes salt, Bytes info, std::size_t len) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  OSSL_PARAM params[6];
  int n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0);
  params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(key.data()), key.size());
  if (!salt.empty()) {
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(info.data()), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  Vec out(len);
  const int rc = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  EXPECT_EQ(rc, 1);
  return out;
}

TEST(Hkdf, AgreesWithOpenSslForBothHashes) {
  SeededRandom rng(5869);
  for (HashAlgorithm h : {HashAlgorithm::kSha256, HashAlgorithm::kSha384}) {
    const char* digest = h == HashAlgorithm::kSha256 ? "SHA256" : "SHA384";
    for (int i = 0; i < 20; ++i) {
      const Vec ikm = test::random_bytes(rng, 1 + rng.uniform(64));
      const Vec salt = test::random_bytes(rng, 1 + rng.uniform(48));
      const Vec info = test::random_bytes(rng, rng.uniform(80));
      const std::size_t len = 1 + rng.uniform(3 * hash_size(h));
      auto prk = hkdf_extract(h, salt, ikm);
      ASSERT_TRUE(prk);
      ASSERT_EQ(prk->size(), hash_size(h));
      EXPECT_EQ(hex_of(prk->bytes()),
                to_hex(openssl_hkdf(digest, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, salt, {}, hash_size(h))));
      Vec okm(len);
      ASSERT_TRUE(hkdf_expand(h, prk->bytes(), info, okm));
      EXPECT_EQ(to_hex(okm), to_hex(openssl_hkdf(digest, EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk->bytes(), {}, info, len)));
    }
  }
}

TEST(Hkdf, ExpandLabelIsExpandOverTheTls13Label) {
  SeededRandom rng(8446);
  const Vec secret = test::random_bytes(rng, 48);
  const Vec context = hex("0102030405");
  Vec expected(48);
  // HkdfLabel for length 48, "tls13 quic ku", context 0102030405, by hand.
  Vec info = hex("0030");
  info.push_back(13);
  for (char c : std::string("tls13 quic ku")) info.push_back(static_cast<std::uint8_t>(c));
  info.push_back(5);
  info.insert(info.end(), context.begin(), context.end());
  ASSERT_TRUE(hkdf_expand(HashAlgorithm::kSha384, secret, info, expected));
  Vec out(48);
  ASSERT_TRUE(hkdf_expand_label(HashAlgorithm::kSha384, secret, "quic ku", context, out));
  EXPECT_EQ(out, expected);
}

TEST(Hkdf, RejectsBadLengthsAndLabels) {
  const Vec prk(32, 1);
  Vec too_long(255 * 32 + 1);
  EXPECT_FALSE(hkdf_expand(HashAlgorithm::kSha256, prk, {}, too_long));
  Vec max_ok(255 * 32);
  EXPECT_TRUE(hkdf_expand(HashAlgorithm::kSha256, prk, {}, max_ok));
  Vec empty;
  EXPECT_FALSE(hkdf_expand(HashAlgorithm::kSha256, prk, {}, empty));
  EXPECT_FALSE(hkdf_expand(HashAlgorithm::kSha256, {}, {}, max_ok));

  std::array<std::uint8_t, kMaxHkdfLabelSize> buf;
  EXPECT_EQ(make_hkdf_label(16, std::string(249, 'x'), {}, buf), 2u + 1 + 255 + 1);
  EXPECT_EQ(make_hkdf_label(16, std::string(250, 'x'), {}, buf), 0u);  // "tls13 " + 250 > 255
  const Vec ctx(256, 0);
  EXPECT_EQ(make_hkdf_label(16, "quic key", ctx, buf), 0u);
  std::array<std::uint8_t, 10> tiny;
  EXPECT_EQ(make_hkdf_label(16, "quic key", {}, tiny), 0u);
  EXPECT_FALSE(hkdf_expand_label(HashAlgorithm::kSha256, prk, "quic key", 0));
  EXPECT_FALSE(hkdf_expand_label(HashAlgorithm::kSha256, prk, "quic key", Secret::kMaxSize + 1));
}

TEST(Secret, WipesAndComparesInConstantTime) {
  const Vec a = hex("00112233");
  Secret s(a);
  EXPECT_EQ(s.size(), 4u);
  Secret t = s;
  EXPECT_TRUE(s == t);
  Secret u(hex("00112234"));
  EXPECT_FALSE(s == u);
  Secret shorter(hex("001122"));
  EXPECT_FALSE(s == shorter);
  t = u;
  EXPECT_TRUE(t == u);
  Vec buf = hex("ffffffff");
  cleanse(buf);
  EXPECT_EQ(buf, Vec(4, 0));
  EXPECT_TRUE(constant_time_equal({}, {}));
}

}  // namespace
}  // namespace roam::crypto
