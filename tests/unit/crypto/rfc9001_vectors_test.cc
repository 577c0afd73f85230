// RFC 9001 Appendix A, every sample, for each backend. Values are read from the RFC text in
// ../shared/specs/rfc9001-test-vectors.md.
#include <gtest/gtest.h>

#include <string>

#include "crypto/hkdf.h"
#include "crypto/packet_keys.h"
#include "crypto/packet_protection.h"
#include "crypto/retry.h"
#include "spec_vectors.h"
#include "test_util.h"

namespace roam::crypto {
namespace {

using testing::block_after;
using testing::ByteVec;
using testing::rfc9001_vectors;
using testing::section;
using testing::to_hex;
using testing::value_after;

std::string_view keys_section() { return section(rfc9001_vectors(), "Keys"); }
std::string_view client_section() { return section(rfc9001_vectors(), "Client Initial {#sample-client-initial}"); }
std::string_view server_section() { return section(rfc9001_vectors(), "Server Initial"); }
std::string_view retry_section() { return section(rfc9001_vectors(), "Retry"); }
std::string_view chacha_section() { return section(rfc9001_vectors(), "ChaCha20-Poly1305 Short Header Packet"); }

// The client's Destination Connection ID, as stated in the appendix introduction.
ConnectionId sample_dcid() {
  const std::string_view text = rfc9001_vectors();
  const std::string_view anchor = "Destination Connection ID of 0x";
  const std::size_t pos = text.find(anchor);
  if (pos == std::string_view::npos) return {};
  const ByteVec bytes = testing::hex(text.substr(pos + anchor.size(), 16));
  return ConnectionId(Bytes(bytes));
}

std::string hex_of(Bytes b) { return to_hex(ByteVec(b.begin(), b.end())); }

TEST(Rfc9001A1, SampleTextIsPresent) {
  ASSERT_FALSE(rfc9001_vectors().empty()) << "cannot read " ROAM_SPECS_DIR "/rfc9001-test-vectors.md";
  EXPECT_EQ(sample_dcid().hex(), "8394c8f03e515708");
  for (auto s : {keys_section(), client_section(), server_section(), retry_section(), chacha_section()}) {
    EXPECT_FALSE(s.empty());
  }
}

TEST(Rfc9001A1, HkdfLabelEncodingMatchesAppendix) {
  struct Row {
    const char* name;
    std::uint16_t length;
  };
  for (const Row& row : {Row{"client in", 32}, Row{"server in", 32}, Row{"quic key", 16}, Row{"quic iv", 12},
                         Row{"quic hp", 16}}) {
    const ByteVec expected = value_after(keys_section(), std::string("\n") + row.name + ":", ':');
    ASSERT_FALSE(expected.empty()) << row.name;
    std::array<std::uint8_t, kMaxHkdfLabelSize> buf;
    const std::size_t n = make_hkdf_label(row.length, row.name, {}, buf);
    EXPECT_EQ(hex_of(Bytes(buf.data(), n)), to_hex(expected)) << row.name;
  }
}

TEST(Rfc9001A1, InitialSecrets) {
  const ByteVec initial = value_after(keys_section(), "initial_secret = HKDF-Extract");
  const ByteVec client = value_after(keys_section(), "client_initial_secret\n");
  const ByteVec server = value_after(keys_section(), "server_initial_secret\n");
  ASSERT_EQ(initial.size(), 32u);
  ASSERT_EQ(client.size(), 32u);
  ASSERT_EQ(server.size(), 32u);

  auto prk = hkdf_extract(HashAlgorithm::kSha256, kInitialSaltV1, sample_dcid().bytes());
  ASSERT_TRUE(prk);
  EXPECT_EQ(hex_of(prk->bytes()), to_hex(initial));

  auto secrets = derive_initial_secrets(sample_dcid());
  ASSERT_TRUE(secrets);
  EXPECT_EQ(hex_of(secrets->client.bytes()), to_hex(client));
  EXPECT_EQ(hex_of(secrets->server.bytes()), to_hex(server));
}

TEST(Rfc9001A1, KeyIvHpForBothDirections) {
  auto secrets = derive_initial_secrets(sample_dcid());
  ASSERT_TRUE(secrets);
  for (const char* side : {"client", "server"}) {
    const Secret& secret = std::string(side) == "client" ? secrets->client : secrets->server;
    const std::string prefix = std::string("HKDF-Expand-Label(") + side + "_initial_secret, ";
    struct Row {
      const char* label;
      std::size_t len;
    };
    for (const Row& row : {Row{"quic key", 16}, Row{"quic iv", 12}, Row{"quic hp", 16}}) {
      const ByteVec expected = value_after(keys_section(), prefix + "\"" + row.label + "\"");
      ASSERT_EQ(expected.size(), row.len) << side << " " << row.label;
      auto out = hkdf_expand_label(HashAlgorithm::kSha256, secret.bytes(), row.label, row.len);
      ASSERT_TRUE(out);
      EXPECT_EQ(hex_of(out->bytes()), to_hex(expected)) << side << " " << row.label;
    }
  }
}

class Rfc9001 : public ::testing::TestWithParam<Backend> {};

TEST_P(Rfc9001, InitialKeysCarryTheAppendixIvs) {
  auto keys = derive_initial_keys(sample_dcid(), GetParam());
  ASSERT_TRUE(keys);
  EXPECT_EQ(hex_of(keys->client.iv), to_hex(value_after(keys_section(), "client_initial_secret, \"quic iv\"")));
  EXPECT_EQ(hex_of(keys->server.iv), to_hex(value_after(keys_section(), "server_initial_secret, \"quic iv\"")));
  EXPECT_EQ(keys->client.algorithm(), AeadAlgorithm::kAes128Gcm);
  if (GetParam() != Backend::kAuto) {
    EXPECT_EQ(keys->client.aead->backend(), GetParam());
    EXPECT_EQ(keys->client.header_protector->backend(), GetParam());
  }
}

TEST_P(Rfc9001, HeaderProtectionMasks) {
  auto keys = derive_initial_keys(sample_dcid(), GetParam());
  ASSERT_TRUE(keys);
  struct Row {
    const HeaderProtector* hp;
    std::string_view text;
  };
  for (const Row& row : {Row{keys->client.header_protector.get(), client_section()},
                         Row{keys->server.header_protector.get(), server_section()}}) {
    const ByteVec sample = value_after(row.text, "sample");
    const ByteVec mask = value_after(row.text, "mask");
    ASSERT_EQ(sample.size(), 16u);
    ASSERT_EQ(mask.size(), 5u);
    HpMask out;
    ASSERT_TRUE(row.hp->mask(HpSample(sample.data(), 16), out));
    EXPECT_EQ(hex_of(out), to_hex(mask));
  }
}

// A.2: the client Initial, built from the header and CRYPTO frame the RFC prints, padded to a
// 1162-byte payload, sealed and compared byte for byte; then opened back.
TEST_P(Rfc9001, ClientInitial) {
  const ByteVec header = block_after(client_section(), "packet number of 2:");
  const ByteVec crypto_frame = block_after(client_section(), "contains the following CRYPTO frame");
  const ByteVec expected = block_after(client_section(), "The resulting protected packet is:");
  ASSERT_EQ(header.size(), 22u);
  ASSERT_GT(crypto_frame.size(), 200u);
  ASSERT_EQ(expected.size(), 1200u);
  ASSERT_EQ(to_hex(header), "c300000001088394c8f03e5157080000449e00000002");

  ByteVec buf(header);
  buf.insert(buf.end(), crypto_frame.begin(), crypto_frame.end());
  buf.resize(header.size() + 1162, 0x00);  // PADDING frames
  const ByteVec unprotected = buf;
  buf.resize(buf.size() + kAeadTagSize);

  auto keys = derive_initial_keys(sample_dcid(), GetParam());
  ASSERT_TRUE(keys);
  const std::size_t n = seal_packet(keys->client, buf, 18, 4, 2, 1162);
  ASSERT_EQ(n, 1200u);
  EXPECT_EQ(to_hex(buf), to_hex(expected));
  EXPECT_EQ(to_hex(ByteVec(buf.begin(), buf.begin() + 22)),
            to_hex(value_after(client_section(), "\nheader ")));

  // The server opens it with the client keys.
  auto h = remove_header_protection(*keys->client.header_protector, buf, 18, 0, false);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->first_byte, 0xc3);
  EXPECT_EQ(h->pn_len, 4u);
  EXPECT_EQ(h->packet_number, 2u);
  EXPECT_EQ(h->header_len, 22u);
  EXPECT_FALSE(h->key_phase);
  EXPECT_FALSE(h->reserved_bits_set());
  auto payload = decrypt_payload(keys->client, buf, h->header_len, h->packet_number);
  ASSERT_TRUE(payload);
  ASSERT_EQ(payload->size(), 1162u);
  EXPECT_EQ(to_hex(ByteVec(buf.begin(), buf.begin() + 22 + 1162)), to_hex(unprotected));
}

// A.3: the server Initial with a 2-byte packet number, sealed by the server and opened by the
// client.
TEST_P(Rfc9001, ServerInitial) {
  const ByteVec header = block_after(server_section(), "packet number of 1:");
  const ByteVec payload = block_after(server_section(), "no PADDING frames:");
  const ByteVec expected = block_after(server_section(), "The final protected packet is then:");
  ASSERT_EQ(header.size(), 20u);
  ASSERT_FALSE(payload.empty());
  ASSERT_EQ(expected.size(), header.size() + payload.size() + kAeadTagSize);

  ByteVec buf(header);
  buf.insert(buf.end(), payload.begin(), payload.end());
  buf.resize(buf.size() + kAeadTagSize);

  auto keys = derive_initial_keys(sample_dcid(), GetParam());
  ASSERT_TRUE(keys);
  ASSERT_EQ(seal_packet(keys->server, buf, 18, 2, 1, payload.size()), expected.size());
  EXPECT_EQ(to_hex(buf), to_hex(expected));

  ByteVec received = expected;
  auto h = remove_header_protection(*keys->server.header_protector, received, 18, 0, false);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->first_byte, 0xc1);
  EXPECT_EQ(h->pn_len, 2u);
  EXPECT_EQ(h->packet_number, 1u);
  EXPECT_EQ(to_hex(ByteVec(received.begin(), received.begin() + 20)), to_hex(header));
  auto plain = decrypt_payload(keys->server, received, h->header_len, h->packet_number);
  ASSERT_TRUE(plain);
  EXPECT_EQ(to_hex(ByteVec(plain->begin(), plain->end())), to_hex(payload));

  // The wrong direction's keys do not open it.
  ByteVec again = expected;
  auto h2 = remove_header_protection(*keys->client.header_protector, again, 18, 0, false);
  if (h2 && h2->header_len + kAeadTagSize <= again.size()) {
    EXPECT_FALSE(decrypt_payload(keys->client, again, h2->header_len, h2->packet_number));
  }
}

// A.4: the Retry packet's tag over the pseudo-packet with ODCID 8394c8f03e515708.
TEST_P(Rfc9001, RetryIntegrityTag) {
  const ByteVec retry = block_after(retry_section(), "Retry");
  ASSERT_GT(retry.size(), kRetryIntegrityTagSize);
  const ConnectionId odcid = sample_dcid();
  const std::size_t body = retry.size() - kRetryIntegrityTagSize;

  ByteVec pseudo{static_cast<std::uint8_t>(odcid.size())};
  pseudo.insert(pseudo.end(), odcid.bytes().begin(), odcid.bytes().end());
  pseudo.insert(pseudo.end(), retry.begin(), retry.begin() + static_cast<std::ptrdiff_t>(body));

  auto integrity = RetryIntegrity::create(GetParam());
  ASSERT_TRUE(integrity);
  auto tag = integrity->compute(pseudo);
  ASSERT_TRUE(tag);
  EXPECT_EQ(hex_of(*tag), to_hex(ByteVec(retry.begin() + static_cast<std::ptrdiff_t>(body), retry.end())));
  EXPECT_TRUE(integrity->verify(pseudo, Bytes(retry).subspan(body)));
  EXPECT_TRUE(integrity->verify_packet(odcid, retry));

  auto tag2 = integrity->compute(odcid, Bytes(retry).first(body));
  ASSERT_TRUE(tag2);
  EXPECT_EQ(*tag2, *tag);

  // Another ODCID, a flipped bit anywhere, or a truncated packet fails.
  EXPECT_FALSE(integrity->verify_packet(ConnectionId{1, 2, 3, 4, 5, 6, 7, 8}, retry));
  for (std::size_t i = 0; i < retry.size(); ++i) {
    ByteVec bad = retry;
    bad[i] ^= 0x01;
    EXPECT_FALSE(integrity->verify_packet(odcid, bad)) << "byte " << i;
  }
  EXPECT_FALSE(integrity->verify_packet(odcid, Bytes(retry).first(kRetryIntegrityTagSize - 1)));
  EXPECT_FALSE(integrity->verify(pseudo, Bytes(retry).subspan(body, 15)));
}

// A.5: ChaCha20-Poly1305 short header packet, pn 654360564 on 3 bytes, payload PING.
TEST_P(Rfc9001, ChaCha20ShortHeader) {
  const std::string_view text = chacha_section();
  const ByteVec secret = value_after(text, "~~~\nsecret");
  const ByteVec iv = value_after(text, "HKDF-Expand-Label(secret, \"quic iv\"");
  const ByteVec nonce = value_after(text, "\nnonce");
  const ByteVec header = value_after(text, "unprotected header");
  const ByteVec plaintext = value_after(text, "payload plaintext");
  const ByteVec ciphertext = value_after(text, "payload ciphertext");
  const ByteVec sample = value_after(text, "\nsample");
  const ByteVec mask = value_after(text, "\nmask");
  const ByteVec protected_header = value_after(text, "\nheader ");
  const ByteVec packet = value_after(text, "smallest possible packet size");
  ASSERT_EQ(secret.size(), 32u);
  ASSERT_EQ(header.size(), 4u);
  ASSERT_EQ(plaintext.size(), 1u);
  ASSERT_EQ(packet.size(), 21u);
  const std::size_t pn_pos = text.find("pn                 = ");
  ASSERT_NE(pn_pos, std::string_view::npos);
  const std::uint64_t pn = std::stoull(std::string(text.substr(pn_pos + 21, 12)));
  ASSERT_EQ(pn, 654360564u);

  auto keys = derive_packet_keys(AeadAlgorithm::kChaCha20Poly1305, secret, GetParam());
  ASSERT_TRUE(keys);
  EXPECT_EQ(hex_of(keys->iv), to_hex(iv));
  EXPECT_EQ(hex_of(keys->nonce(pn)), to_hex(nonce));

  HpMask m;
  ASSERT_EQ(sample.size(), 16u);
  ASSERT_TRUE(keys->header_protector->mask(HpSample(sample.data(), 16), m));
  EXPECT_EQ(hex_of(m), to_hex(mask));

  ByteVec buf(header);
  buf.insert(buf.end(), plaintext.begin(), plaintext.end());
  buf.resize(buf.size() + kAeadTagSize);
  ASSERT_EQ(seal_packet(*keys, buf, 1, 3, pn, 1), 21u);
  EXPECT_EQ(to_hex(buf), to_hex(packet));
  EXPECT_EQ(to_hex(ByteVec(buf.begin() + 4, buf.end())), to_hex(ciphertext));
  EXPECT_EQ(to_hex(ByteVec(buf.begin(), buf.begin() + 4)), to_hex(protected_header));

  auto h = remove_header_protection(*keys->header_protector, buf, 1, pn - 1, true);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->first_byte, 0x42);
  EXPECT_EQ(h->pn_len, 3u);
  EXPECT_EQ(h->packet_number, pn);
  EXPECT_FALSE(h->key_phase);
  auto plain = decrypt_payload(*keys, buf, h->header_len, h->packet_number);
  ASSERT_TRUE(plain);
  EXPECT_EQ(to_hex(ByteVec(plain->begin(), plain->end())), to_hex(plaintext));
}

TEST(Rfc9001A5, KeyDerivationsIncludingKeyUpdateSecret) {
  const std::string_view text = chacha_section();
  const ByteVec secret = value_after(text, "~~~\nsecret");
  ASSERT_EQ(secret.size(), 32u);
  struct Row {
    const char* label;
    std::size_t len;
  };
  for (const Row& row : {Row{"quic key", 32}, Row{"quic iv", 12}, Row{"quic hp", 32}, Row{"quic ku", 32}}) {
    const ByteVec expected = value_after(text, std::string("HKDF-Expand-Label(secret, \"") + row.label + "\"");
    ASSERT_EQ(expected.size(), row.len) << row.label;
    auto out = hkdf_expand_label(HashAlgorithm::kSha256, secret, row.label, row.len);
    ASSERT_TRUE(out);
    EXPECT_EQ(hex_of(out->bytes()), to_hex(expected)) << row.label;
  }
  auto ku = next_traffic_secret(HashAlgorithm::kSha256, secret);
  ASSERT_TRUE(ku);
  EXPECT_EQ(hex_of(ku->bytes()), to_hex(value_after(text, "HKDF-Expand-Label(secret, \"quic ku\"")));
}

INSTANTIATE_TEST_SUITE_P(Backends, Rfc9001, ::testing::Values(Backend::kGnuTls, Backend::kOpenSsl, Backend::kAuto),
                         test::BackendName());

}  // namespace
}  // namespace roam::crypto
