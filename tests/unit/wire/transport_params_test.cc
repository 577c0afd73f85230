#include "wire/transport_params.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/random.h"
#include "wire/varint.h"

namespace roam::wire {
namespace {

std::vector<std::uint8_t> hex(std::string_view s) {
  std::string compact;
  for (char c : s) {
    if (c != ' ') compact.push_back(c);
  }
  std::basic_string<std::uint8_t> out;
  EXPECT_TRUE(from_hex(compact, out)) << s;
  return {out.begin(), out.end()};
}

ConnectionId cid(std::string_view h) {
  const auto b = hex(h);
  return ConnectionId(Bytes(b));
}

template <std::size_t N>
std::array<std::uint8_t, N> arr(std::string_view h) {
  const auto b = hex(h);
  std::array<std::uint8_t, N> out{};
  EXPECT_EQ(b.size(), N) << h;
  std::copy_n(b.begin(), std::min(N, b.size()), out.begin());
  return out;
}

PreferredAddress sample_preferred_address() {
  PreferredAddress pa;
  pa.ipv4 = {192, 0, 2, 1};
  pa.ipv4_port = 443;
  pa.ipv6 = arr<16>("20010db8000000000000000000000001");
  pa.ipv6_port = 443;
  pa.cid = cid("0102030405060708");
  pa.reset_token = arr<16>("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  return pa;
}

// Every parameter set to a non-default value, as a server would send after a Retry.
TransportParameters full_server_params() {
  TransportParameters p;
  p.original_destination_connection_id = cid("8394c8f03e515708");
  p.max_idle_timeout_ms = 30000;
  p.stateless_reset_token = arr<16>("00112233445566778899aabbccddeeff");
  p.max_udp_payload_size = 1452;
  p.initial_max_data = 1048576;
  p.initial_max_stream_data_bidi_local = 262144;
  p.initial_max_stream_data_bidi_remote = 262144;
  p.initial_max_stream_data_uni = 262144;
  p.initial_max_streams_bidi = 100;
  p.initial_max_streams_uni = 3;
  p.ack_delay_exponent = 8;
  p.max_ack_delay_ms = 20;
  p.disable_active_migration = true;
  p.preferred_address = sample_preferred_address();
  p.active_connection_id_limit = 8;
  p.initial_source_connection_id = cid("c0c1c2c3c4c5c6c7");
  p.retry_source_connection_id = cid("ddccbbaa");
  p.max_datagram_frame_size = 65535;
  return p;
}

// The same set, written by hand from RFC 9000 18 (ascending identifiers, shortest varints).
const char* const kFullServerHex[] = {
    "00 08 8394c8f03e515708",                  // original_destination_connection_id
    "01 04 80007530",                          // max_idle_timeout 30000
    "02 10 00112233445566778899aabbccddeeff",  // stateless_reset_token
    "03 02 45ac",                              // max_udp_payload_size 1452
    "04 04 80100000",                          // initial_max_data 1048576
    "05 04 80040000",                          // initial_max_stream_data_bidi_local
    "06 04 80040000",                          // initial_max_stream_data_bidi_remote
    "07 04 80040000",                          // initial_max_stream_data_uni
    "08 02 4064",                              // initial_max_streams_bidi 100
    "09 01 03",                                // initial_max_streams_uni 3
    "0a 01 08",                                // ack_delay_exponent 8
    "0b 01 14",                                // max_ack_delay 20
    "0c 00",                                   // disable_active_migration
    "0d 31 c0000201 01bb 20010db8000000000000000000000001 01bb 08 0102030405060708"
    " a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",  // preferred_address
    "0e 01 08",                           // active_connection_id_limit 8
    "0f 08 c0c1c2c3c4c5c6c7",             // initial_source_connection_id
    "10 04 ddccbbaa",                     // retry_source_connection_id
    "20 04 8000ffff",                     // max_datagram_frame_size 65535
};

std::vector<std::uint8_t> full_server_bytes() {
  std::string all;
  for (const char* piece : kFullServerHex) all += piece;
  return hex(all);
}

TransportParameters full_client_params() {
  TransportParameters p;
  p.max_idle_timeout_ms = 10000;
  p.max_udp_payload_size = 1200;
  p.initial_max_data = (1ull << 62) - 1;
  p.initial_max_stream_data_bidi_local = 1;
  p.initial_max_stream_data_bidi_remote = 16384;
  p.initial_max_stream_data_uni = 1ull << 30;
  p.initial_max_streams_bidi = 1ull << 60;
  p.initial_max_streams_uni = 1ull << 60;
  p.ack_delay_exponent = 20;
  p.max_ack_delay_ms = (1ull << 14) - 1;
  p.disable_active_migration = true;
  p.active_connection_id_limit = 2000;
  p.initial_source_connection_id = cid("0000000000000000000000000000000000000001");  // 20 bytes
  p.max_datagram_frame_size = 0;
  return p;
}

void expect_param_error(std::string_view h, Perspective sender) {
  const auto bytes = hex(h);
  auto r = decode_transport_parameters(bytes, sender);
  ASSERT_FALSE(r.ok()) << "accepted: " << h;
  EXPECT_EQ(r.error().code, TransportError::kTransportParameterError) << h;
  EXPECT_FALSE(r.error().reason.empty()) << h;
}

TransportParameters expect_ok(std::string_view h, Perspective sender) {
  const auto bytes = hex(h);
  auto r = decode_transport_parameters(bytes, sender);
  EXPECT_TRUE(r.ok()) << h << ": " << (r.ok() ? "" : r.error().reason);
  return r.ok() ? *r : TransportParameters{};
}

TEST(TransportParams, DecodesHandWrittenServerVector) {
  const auto bytes = full_server_bytes();
  auto r = decode_transport_parameters(bytes, Perspective::kServer);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  const TransportParameters& p = *r;
  EXPECT_EQ(p.original_destination_connection_id->hex(), "8394c8f03e515708");
  EXPECT_EQ(p.max_idle_timeout_ms, 30000u);
  EXPECT_EQ(p.max_idle_timeout(), std::chrono::seconds(30));
  EXPECT_EQ(to_hex(*p.stateless_reset_token), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(p.max_udp_payload_size, 1452u);
  EXPECT_EQ(p.initial_max_data, 1048576u);
  EXPECT_EQ(p.initial_max_stream_data_bidi_local, 262144u);
  EXPECT_EQ(p.initial_max_stream_data_bidi_remote, 262144u);
  EXPECT_EQ(p.initial_max_stream_data_uni, 262144u);
  EXPECT_EQ(p.initial_max_streams_bidi, 100u);
  EXPECT_EQ(p.initial_max_streams_uni, 3u);
  EXPECT_EQ(p.ack_delay_exponent, 8u);
  EXPECT_EQ(p.max_ack_delay_ms, 20u);
  EXPECT_EQ(p.max_ack_delay(), 20_ms);
  EXPECT_TRUE(p.disable_active_migration);
  ASSERT_TRUE(p.preferred_address.has_value());
  EXPECT_EQ(to_hex(p.preferred_address->ipv4), "c0000201");
  EXPECT_EQ(p.preferred_address->ipv4_port, 443);
  EXPECT_EQ(to_hex(p.preferred_address->ipv6), "20010db8000000000000000000000001");
  EXPECT_EQ(p.preferred_address->ipv6_port, 443);
  EXPECT_EQ(p.preferred_address->cid.hex(), "0102030405060708");
  EXPECT_EQ(to_hex(p.preferred_address->reset_token), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  EXPECT_EQ(p.active_connection_id_limit, 8u);
  EXPECT_EQ(p.initial_source_connection_id->hex(), "c0c1c2c3c4c5c6c7");
  EXPECT_EQ(p.retry_source_connection_id->hex(), "ddccbbaa");
  EXPECT_EQ(p.max_datagram_frame_size, 65535u);
  EXPECT_EQ(p, full_server_params());
}

TEST(TransportParams, EncodesHandWrittenServerVector) {
  auto r = encode_transport_parameters(full_server_params(), Perspective::kServer);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(to_hex(*r), to_hex(full_server_bytes()));
}

TEST(TransportParams, RoundTripsFullServerSet) {
  const TransportParameters p = full_server_params();
  auto enc = encode_transport_parameters(p, Perspective::kServer);
  ASSERT_TRUE(enc.ok());
  auto dec = decode_transport_parameters(*enc, Perspective::kServer);
  ASSERT_TRUE(dec.ok()) << dec.error().reason;
  EXPECT_EQ(*dec, p);
}

TEST(TransportParams, RoundTripsFullClientSetAtLimits) {
  const TransportParameters p = full_client_params();
  auto enc = encode_transport_parameters(p, Perspective::kClient);
  ASSERT_TRUE(enc.ok()) << enc.error().reason;
  auto dec = decode_transport_parameters(*enc, Perspective::kClient);
  ASSERT_TRUE(dec.ok()) << dec.error().reason;
  EXPECT_EQ(*dec, p);
  // Explicit zero max_datagram_frame_size is kept apart from absence.
  ASSERT_TRUE(dec->max_datagram_frame_size.has_value());
  EXPECT_EQ(*dec->max_datagram_frame_size, 0u);
  // The same bytes hold no server-only parameter, so they are also valid from a server.
  EXPECT_TRUE(decode_transport_parameters(*enc, Perspective::kServer).ok());
}

TEST(TransportParams, AbsentParametersTakeRfcDefaults) {
  auto r = decode_transport_parameters({}, Perspective::kServer);
  ASSERT_TRUE(r.ok());
  const TransportParameters& p = *r;
  EXPECT_FALSE(p.original_destination_connection_id);
  EXPECT_EQ(p.max_idle_timeout_ms, 0u);
  EXPECT_FALSE(p.stateless_reset_token);
  EXPECT_EQ(p.max_udp_payload_size, 65527u);
  EXPECT_EQ(p.initial_max_data, 0u);
  EXPECT_EQ(p.initial_max_stream_data_bidi_local, 0u);
  EXPECT_EQ(p.initial_max_stream_data_bidi_remote, 0u);
  EXPECT_EQ(p.initial_max_stream_data_uni, 0u);
  EXPECT_EQ(p.initial_max_streams_bidi, 0u);
  EXPECT_EQ(p.initial_max_streams_uni, 0u);
  EXPECT_EQ(p.ack_delay_exponent, 3u);
  EXPECT_EQ(p.max_ack_delay_ms, 25u);
  EXPECT_FALSE(p.disable_active_migration);
  EXPECT_FALSE(p.preferred_address);
  EXPECT_EQ(p.active_connection_id_limit, 2u);
  EXPECT_FALSE(p.initial_source_connection_id);
  EXPECT_FALSE(p.retry_source_connection_id);
  EXPECT_FALSE(p.max_datagram_frame_size);

  // Only the parameters given change; the rest keep their defaults.
  TransportParameters expected;
  expected.initial_max_data = 5;
  EXPECT_EQ(expect_ok("04 01 05", Perspective::kClient), expected);
}

TEST(TransportParams, DefaultsAreNotWritten) {
  auto r = encode_transport_parameters(TransportParameters{}, Perspective::kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  // Explicit default values are equivalent to absence, so they are omitted too.
  TransportParameters p;
  p.max_udp_payload_size = 65527;
  p.ack_delay_exponent = 3;
  p.max_ack_delay_ms = 25;
  p.active_connection_id_limit = 2;
  p.initial_max_data = 7;
  auto r2 = encode_transport_parameters(p, Perspective::kClient);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(to_hex(*r2), "040107");
}

TEST(TransportParams, AcceptsNonMinimalVarintsAndEmptyCids) {
  TransportParameters p = expect_ok("01 02 4005  0e 08 c000000000000003  0f 00", Perspective::kClient);
  EXPECT_EQ(p.max_idle_timeout_ms, 5u);
  EXPECT_EQ(p.active_connection_id_limit, 3u);
  ASSERT_TRUE(p.initial_source_connection_id.has_value());
  EXPECT_TRUE(p.initial_source_connection_id->empty());
  // Parameter identifiers and lengths may use non-minimal varints too.
  p = expect_ok("4004 4001 09", Perspective::kClient);
  EXPECT_EQ(p.initial_max_data, 9u);
}

struct Rejection {
  const char* name;
  const char* hex;
  Perspective sender;
};

constexpr Perspective kC = Perspective::kClient;
constexpr Perspective kS = Perspective::kServer;

const Rejection kRejections[] = {
    {"duplicate known parameter", "01 01 05 01 01 05", kC},
    {"duplicate after other parameters", "04 01 01 05 01 02 04 01 01", kC},
    {"duplicate unknown parameter", "1b 01 aa 1b 00", kC},
    {"max_udp_payload_size 1199", "03 02 44af", kC},
    {"max_udp_payload_size 0", "03 01 00", kC},
    {"ack_delay_exponent 21", "0a 01 15", kC},
    {"ack_delay_exponent huge", "0a 08 c000000000000100", kS},
    {"max_ack_delay 2^14", "0b 04 80004000", kC},
    {"active_connection_id_limit 1", "0e 01 01", kC},
    {"active_connection_id_limit 0", "0e 01 00", kS},
    {"initial_max_streams_bidi 2^60+1", "08 08 d000000000000001", kC},
    {"initial_max_streams_uni 2^60+1", "09 08 d000000000000001", kS},
    {"varint with a trailing byte", "01 02 05 00", kC},
    {"varint longer than the parameter", "01 02 8000", kC},
    {"empty integer parameter", "04 00", kC},
    {"max_datagram_frame_size with a trailing byte", "20 02 05 00", kC},
    {"empty max_datagram_frame_size", "20 00", kC},
    {"length beyond the end", "01 05 00", kC},
    {"identifier only", "01", kC},
    {"truncated identifier varint", "40", kC},
    {"truncated length varint", "01 80 00", kC},
    {"truncated after a valid parameter", "04 01 05 0f", kC},
    {"initial_source_connection_id of 21 bytes", "0f 15 000102030405060708090a0b0c0d0e0f1011121314", kC},
    {"original_destination_connection_id of 21 bytes",
     "00 15 000102030405060708090a0b0c0d0e0f1011121314", kS},
    {"retry_source_connection_id of 21 bytes", "10 15 000102030405060708090a0b0c0d0e0f1011121314", kS},
    {"stateless_reset_token of 15 bytes", "02 0f 00112233445566778899aabbccddee", kS},
    {"stateless_reset_token of 17 bytes", "02 11 00112233445566778899aabbccddeeff00", kS},
    {"empty stateless_reset_token", "02 00", kS},
    {"client sends original_destination_connection_id", "00 04 01020304", kC},
    {"client sends empty original_destination_connection_id", "00 00", kC},
    {"client sends stateless_reset_token", "02 10 00112233445566778899aabbccddeeff", kC},
    {"client sends retry_source_connection_id", "10 04 01020304", kC},
    {"client sends preferred_address",
     "0d 2a c0000201 01bb 00000000000000000000000000000000 0000 01 aa a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", kC},
    {"disable_active_migration with a value", "0c 01 00", kC},
    {"preferred_address with zero-length CID",
     "0d 29 c0000201 01bb 00000000000000000000000000000000 0000 00 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", kS},
    {"preferred_address with a 21-byte CID",
     "0d 3e c0000201 01bb 00000000000000000000000000000000 0000 15 000102030405060708090a0b0c0d0e0f1011121314"
     " a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     kS},
    {"preferred_address with a trailing byte",
     "0d 2b c0000201 01bb 00000000000000000000000000000000 0000 01 aa a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 00", kS},
    {"preferred_address missing a token byte",
     "0d 29 c0000201 01bb 00000000000000000000000000000000 0000 01 aa a0a1a2a3a4a5a6a7a8a9aaabacadae", kS},
    {"preferred_address CID longer than the parameter",
     "0d 2a c0000201 01bb 00000000000000000000000000000000 0000 08 aa a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", kS},
    {"preferred_address cut inside the addresses", "0d 04 c0000201", kS},
    {"preferred_address from a server with a zero-length CID",
     "0d 2a c0000201 01bb 00000000000000000000000000000000 0000 01 aa a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 0f 00", kS},
};

TEST(TransportParams, RejectsEachInvalidEncoding) {
  for (const auto& c : kRejections) {
    SCOPED_TRACE(c.name);
    expect_param_error(c.hex, c.sender);
  }
}

TEST(TransportParams, AcceptsValuesAtTheLimits) {
  EXPECT_EQ(expect_ok("03 02 44b0", kC).max_udp_payload_size, 1200u);
  EXPECT_EQ(expect_ok("03 08 c0000000ffffffff", kC).max_udp_payload_size, 0xffffffffu);  // above 65527 is valid
  EXPECT_EQ(expect_ok("0a 01 14", kC).ack_delay_exponent, 20u);
  EXPECT_EQ(expect_ok("0a 01 00", kC).ack_delay_exponent, 0u);
  EXPECT_EQ(expect_ok("0b 02 7fff", kC).max_ack_delay_ms, 16383u);
  EXPECT_EQ(expect_ok("0b 01 00", kC).max_ack_delay_ms, 0u);
  EXPECT_EQ(expect_ok("0e 01 02", kC).active_connection_id_limit, 2u);
  EXPECT_EQ(expect_ok("08 08 d000000000000000", kC).initial_max_streams_bidi, 1ull << 60);
  EXPECT_EQ(expect_ok("09 08 d000000000000000", kC).initial_max_streams_uni, 1ull << 60);
  EXPECT_EQ(expect_ok("04 08 ffffffffffffffff", kC).initial_max_data, (1ull << 62) - 1);
  EXPECT_EQ(expect_ok("0f 14 000102030405060708090a0b0c0d0e0f10111213", kC).initial_source_connection_id->size(), 20u);
  EXPECT_TRUE(expect_ok("0c 00", kC).disable_active_migration);
  const auto pa = expect_ok(
      "0d 3d c0000201 01bb 00000000000000000000000000000000 0000 14 000102030405060708090a0b0c0d0e0f10111213"
      " a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
      kS);
  ASSERT_TRUE(pa.preferred_address.has_value());
  EXPECT_EQ(pa.preferred_address->cid.size(), 20u);
}

TEST(TransportParams, IgnoresUnknownAndReservedParameters) {
  // 0x1b = 31*0+27 and 0x3a = 31*1+27 are reserved; 0x11 (version_information), 0x2ab2 and an
  // 8-byte identifier are unknown to this decoder. Their contents are arbitrary.
  const std::string known = "04 01 05 0f 02 abcd";
  const std::string unknown =
      "1b 00  3a 05 ffffffffff  11 03 000000  40 40 00  7ab2 01 ff  c000000000abcdef 02 ffff  3f 00";
  TransportParameters expected = expect_ok(known, kC);
  EXPECT_EQ(expect_ok(unknown + " " + known, kC), expected);
  EXPECT_EQ(expect_ok(known + " " + unknown, kC), expected);
  EXPECT_EQ(expect_ok(unknown, kS), TransportParameters{});
}

TEST(TransportParams, GreaseIsWrittenFirstAndIgnoredOnDecode) {
  EncodeOptions opt;
  opt.grease = GreaseParameter{5, hex("deadbeef")};
  EXPECT_EQ(opt.grease->id(), 31u * 5 + 27);
  auto enc = encode_transport_parameters(full_server_params(), kS, opt);
  ASSERT_TRUE(enc.ok());
  // id 182 = 0x40b6, length 4, value.
  EXPECT_EQ(to_hex(Bytes(*enc).first(7)), "40b604deadbeef");
  EXPECT_EQ(to_hex(Bytes(*enc).subspan(7)), to_hex(full_server_bytes()));
  auto dec = decode_transport_parameters(*enc, kS);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(*dec, full_server_params());

  opt.grease = GreaseParameter{kMaxGreaseN, {}};
  enc = encode_transport_parameters(TransportParameters{}, kC, opt);
  ASSERT_TRUE(enc.ok());
  Reader r(*enc);
  std::uint64_t id = 0;
  ASSERT_TRUE(r.read_varint(id));
  EXPECT_EQ(id, 31 * kMaxGreaseN + 27);
  EXPECT_LE(id, kVarintMax);

  opt.grease = GreaseParameter{kMaxGreaseN + 1, {}};
  enc = encode_transport_parameters(TransportParameters{}, kC, opt);
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.error().code, TransportError::kTransportParameterError);
}

TEST(TransportParams, MakeGreaseParameterVariesAndRoundTrips) {
  SeededRandom rng(42);
  std::set<std::size_t> id_sizes;
  std::set<std::size_t> value_sizes;
  for (int i = 0; i < 200; ++i) {
    GreaseParameter g = make_grease_parameter(rng);
    ASSERT_LE(g.n, kMaxGreaseN);
    EXPECT_EQ(g.id() % 31, 27u);
    ASSERT_LE(g.value.size(), 16u);
    id_sizes.insert(varint_size(g.id()));
    value_sizes.insert(g.value.size());
    EncodeOptions opt;
    opt.grease = g;
    auto enc = encode_transport_parameters(full_client_params(), kC, opt);
    ASSERT_TRUE(enc.ok());
    auto dec = decode_transport_parameters(*enc, kC);
    ASSERT_TRUE(dec.ok()) << dec.error().reason;
    EXPECT_EQ(*dec, full_client_params());
  }
  EXPECT_EQ(id_sizes, (std::set<std::size_t>{1, 2, 4, 8}));
  EXPECT_GT(value_sizes.size(), 10u);
}

// Offsets at which a parameter ends in a well-formed encoding (0 included).
std::set<std::size_t> parameter_boundaries(Bytes data) {
  std::set<std::size_t> out{0};
  Reader r(data);
  while (!r.empty()) {
    std::uint64_t id = 0;
    std::uint64_t len = 0;
    EXPECT_TRUE(r.read_varint(id) && r.read_varint(len) && r.skip(static_cast<std::size_t>(len)));
    out.insert(r.position());
  }
  return out;
}

// A prefix that ends on a parameter boundary is a valid subset of the full set; any other prefix
// cuts a parameter and is an error.
void check_every_prefix(const TransportParameters& full, Perspective sender, const EncodeOptions& opt) {
  auto enc = encode_transport_parameters(full, sender, opt);
  ASSERT_TRUE(enc.ok());
  const std::vector<std::uint8_t>& bytes = *enc;
  const auto boundaries = parameter_boundaries(bytes);
  const TransportParameters defaults;
  std::size_t accepted = 0;
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    SCOPED_TRACE(n);
    // Copy the prefix so that AddressSanitizer would catch a read past its end.
    const std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = decode_transport_parameters(prefix, sender);
    if (!boundaries.count(n)) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, TransportError::kTransportParameterError);
      continue;
    }
    // A server's preferred_address before its initial_source_connection_id is still fine.
    ASSERT_TRUE(r.ok()) << r.error().reason;
    ++accepted;
    const TransportParameters& p = *r;
#define ROAM_EXPECT_SUBSET(f) EXPECT_TRUE(p.f == full.f || p.f == defaults.f) << #f
    ROAM_EXPECT_SUBSET(original_destination_connection_id);
    ROAM_EXPECT_SUBSET(max_idle_timeout_ms);
    ROAM_EXPECT_SUBSET(stateless_reset_token);
    ROAM_EXPECT_SUBSET(max_udp_payload_size);
    ROAM_EXPECT_SUBSET(initial_max_data);
    ROAM_EXPECT_SUBSET(initial_max_stream_data_bidi_local);
    ROAM_EXPECT_SUBSET(initial_max_stream_data_bidi_remote);
    ROAM_EXPECT_SUBSET(initial_max_stream_data_uni);
    ROAM_EXPECT_SUBSET(initial_max_streams_bidi);
    ROAM_EXPECT_SUBSET(initial_max_streams_uni);
    ROAM_EXPECT_SUBSET(ack_delay_exponent);
    ROAM_EXPECT_SUBSET(max_ack_delay_ms);
    ROAM_EXPECT_SUBSET(disable_active_migration);
    ROAM_EXPECT_SUBSET(preferred_address);
    ROAM_EXPECT_SUBSET(active_connection_id_limit);
    ROAM_EXPECT_SUBSET(initial_source_connection_id);
    ROAM_EXPECT_SUBSET(retry_source_connection_id);
    ROAM_EXPECT_SUBSET(max_datagram_frame_size);
#undef ROAM_EXPECT_SUBSET
  }
  EXPECT_EQ(accepted, boundaries.size());
  EXPECT_GT(accepted, 10u);
}

TEST(TransportParams, EveryPrefixIsAnErrorOrAValidSubset) {
  check_every_prefix(full_server_params(), kS, {});
  check_every_prefix(full_client_params(), kC, {});
  EncodeOptions opt;
  opt.grease = GreaseParameter{kMaxGreaseN, hex("0102030405060708090a")};
  check_every_prefix(full_server_params(), kS, opt);
}

TEST(TransportParams, EncodeRejectsInvalidSets) {
  const auto expect_rejected = [](const TransportParameters& p, Perspective sender, const char* what) {
    auto r = encode_transport_parameters(p, sender);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code, TransportError::kTransportParameterError) << what;
    EXPECT_FALSE(validate_transport_parameters(p, sender).ok()) << what;
  };
  // Server-only parameters in a client's set.
  TransportParameters p;
  p.original_destination_connection_id = cid("01");
  expect_rejected(p, kC, "odcid");
  p = {};
  p.stateless_reset_token = StatelessResetToken{};
  expect_rejected(p, kC, "token");
  p = {};
  p.preferred_address = sample_preferred_address();
  expect_rejected(p, kC, "preferred_address");
  p = {};
  p.retry_source_connection_id = cid("");
  expect_rejected(p, kC, "rscid");
  // Value limits.
  p = {};
  p.max_udp_payload_size = 1199;
  expect_rejected(p, kS, "max_udp_payload_size");
  p = {};
  p.ack_delay_exponent = 21;
  expect_rejected(p, kS, "ack_delay_exponent");
  p = {};
  p.max_ack_delay_ms = 1u << 14;
  expect_rejected(p, kS, "max_ack_delay");
  p = {};
  p.active_connection_id_limit = 1;
  expect_rejected(p, kS, "active_connection_id_limit");
  p = {};
  p.initial_max_streams_uni = (1ull << 60) + 1;
  expect_rejected(p, kS, "initial_max_streams_uni");
  p = {};
  p.initial_max_data = 1ull << 62;
  expect_rejected(p, kS, "initial_max_data beyond varint range");
  p = {};
  p.max_idle_timeout_ms = ~0ull;
  expect_rejected(p, kS, "max_idle_timeout beyond varint range");
  p = {};
  p.max_datagram_frame_size = 1ull << 62;
  expect_rejected(p, kS, "max_datagram_frame_size beyond varint range");
  // preferred_address rules.
  p = {};
  p.preferred_address = sample_preferred_address();
  p.preferred_address->cid = ConnectionId{};
  expect_rejected(p, kS, "preferred_address with empty CID");
  p = {};
  p.preferred_address = sample_preferred_address();
  p.initial_source_connection_id = ConnectionId{};
  expect_rejected(p, kS, "preferred_address with zero-length server CID");

  EXPECT_TRUE(validate_transport_parameters(full_server_params(), kS).ok());
  EXPECT_TRUE(validate_transport_parameters(full_client_params(), kC).ok());
  EXPECT_FALSE(validate_transport_parameters(full_server_params(), kC).ok());
}

TEST(TransportParams, PreferredAddressFamilies) {
  PreferredAddress pa = sample_preferred_address();
  EXPECT_TRUE(pa.has_ipv4());
  EXPECT_TRUE(pa.has_ipv6());
  pa.ipv6 = {};
  pa.ipv6_port = 0;
  EXPECT_FALSE(pa.has_ipv6());
  pa.ipv6_port = 1;  // a port alone still makes the family non-zero
  EXPECT_TRUE(pa.has_ipv6());
  pa.ipv4 = {};
  EXPECT_TRUE(pa.has_ipv4());  // port 443 is still set
  pa.ipv4_port = 0;
  EXPECT_FALSE(pa.has_ipv4());
}

// RFC 9000 7.3, figures 7 and 8: client C1, server S1 (client-chosen), Retry S2, server S3.
struct CidCase {
  const char* name;
  std::optional<ConnectionId> odcid;
  std::optional<ConnectionId> iscid;
  std::optional<ConnectionId> rscid;
  Perspective sender;
  std::optional<ConnectionId> retry_seen;
  bool ok;
};

TEST(TransportParams, ValidatesConnectionIdParametersPerRfc9000Section7_3) {
  const ConnectionId c1 = cid("c1c1c1c1");
  const ConnectionId s1 = cid("5151515151515151");
  const ConnectionId s2 = cid("52525252");
  const ConnectionId s3 = cid("53535353");
  const ConnectionId empty;
  const std::optional<ConnectionId> none;
  const CidCase cases[] = {
      // Server's parameters, checked by the client (expected odcid S1, initial scid S3).
      {"server without Retry", s1, s3, none, kS, none, true},
      {"server after Retry", s1, s3, s2, kS, s2, true},
      {"server missing initial_source_connection_id", s1, none, none, kS, none, false},
      {"server missing original_destination_connection_id", none, s3, none, kS, none, false},
      {"server odcid mismatch", s2, s3, none, kS, none, false},
      {"server iscid mismatch", s1, s1, none, kS, none, false},
      {"server retry_scid without a Retry", s1, s3, s2, kS, none, false},
      {"server missing retry_scid after a Retry", s1, s3, none, kS, s2, false},
      {"server retry_scid mismatch", s1, s3, s3, kS, s2, false},
      {"server odcid empty where S1 expected", empty, s3, none, kS, none, false},
      // Client's parameters, checked by the server (expected initial scid C1).
      {"client", none, c1, none, kC, none, true},
      {"client missing initial_source_connection_id", none, none, none, kC, none, false},
      {"client iscid mismatch", none, s1, none, kC, none, false},
      {"client iscid empty where C1 expected", none, empty, none, kC, none, false},
      {"client with odcid", s1, c1, none, kC, none, false},
      {"client with retry_scid", none, c1, s2, kC, none, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TransportParameters p;
    p.original_destination_connection_id = c.odcid;
    p.initial_source_connection_id = c.iscid;
    p.retry_source_connection_id = c.rscid;
    const ConnectionId& expected_iscid = c.sender == kS ? s3 : c1;
    Status st = validate_cid_parameters(p, c.sender, s1, expected_iscid, c.retry_seen);
    EXPECT_EQ(st.ok(), c.ok);
    if (!st.ok()) {
      EXPECT_EQ(st.error().code, TransportError::kTransportParameterError);
    }
  }
  // Zero-length CIDs are valid when that is what the handshake used.
  TransportParameters p;
  p.original_destination_connection_id = s1;
  p.initial_source_connection_id = empty;
  EXPECT_TRUE(validate_cid_parameters(p, kS, s1, empty, none).ok());
}

}  // namespace
}  // namespace roam::wire
