// Fuzzes what roam-lb reads from the network: QUIC-LB CID decoding under every config shape (the
// first two input octets pick server ID length, nonce length, key, length encoding), the
// encapsulation header, and the router on whole datagrams. Properties, not just "no crash":
// - server_id() and decrypt() agree; a decoded CID re-encodes to exactly the input octets;
// - server_id_in_prefix() agrees with server_id() on the CID it found;
// - a decoded encapsulation header re-encodes to a header that decodes the same, payload intact;
// - the router drops only malformed datagrams and never names a backend that does not exist.
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "fuzz_check.h"

#include "lb/codec.h"
#include "lb/encap.h"
#include "lb/router.h"

namespace {

using namespace roam;
using namespace roam::lb;

constexpr Key kKey = {0x8f, 0x95, 0xf0, 0x92, 0x45, 0x76, 0x5f, 0x80, 0x25, 0x69, 0x34, 0xe5, 0x0c, 0x66, 0x20, 0x7f};

// One codec per (config ID, server ID length, nonce length, key, encode_length), made on first use.
const CidCodec& codec_for(std::uint8_t id, std::size_t sid, std::size_t nonce, bool key, bool encode_length) {
  static std::array<std::unique_ptr<CidCodec>, 7 * 16 * 19 * 4> cache;
  auto& slot = cache[((id * 16 + sid) * 19 + nonce) * 4 + key * 2 + encode_length];
  if (!slot) {
    Config c;
    c.id = id;
    c.server_id_len = sid;
    c.nonce_len = nonce;
    if (key) c.key = kKey;
    c.encode_length = encode_length;
    auto r = CidCodec::create(c);
    CHECK(r.ok());
    slot = std::make_unique<CidCodec>(std::move(r.value()));
  }
  return *slot;
}

const Router& router() {
  static std::unique_ptr<Router> r = [] {
    Settings s;
    Config a;
    a.id = 0;
    a.server_id_len = 3;
    a.nonce_len = 5;
    a.key = kKey;
    Config b;
    b.id = 2;
    b.server_id_len = 8;
    b.nonce_len = 8;
    b.key = kKey;
    Config p;
    p.id = 5;
    p.server_id_len = 2;
    p.nonce_len = 4;
    s.configs = {a, b, p};
    const std::uint8_t ids[3][2] = {{0x0a, 0x01}, {0x0b, 0x02}, {0x0c, 0x03}};
    for (int i = 0; i < 3; ++i) {
      s.backends.push_back(
          {ServerId(Bytes(ids[i], 2)), SocketAddress::from_ipv4({192, 0, 2, static_cast<std::uint8_t>(i + 1)}, 4433)});
    }
    auto made = Router::create(s);
    CHECK(made.ok());
    return std::make_unique<Router>(std::move(made.value()));
  }();
  return *r;
}

void fuzz_cid(std::uint8_t shape, std::uint8_t flags, Bytes cid) {
  const std::size_t sid = 1 + shape % 15;
  const std::size_t nonce = 4 + (shape >> 4) % (19 - sid - 4 + 1);
  const bool key = flags & 1, encode_length = flags & 2;
  // The config ID the CID names, so that most inputs get past the first check (0b111 -> 0).
  const std::uint8_t id = cid.empty() || config_id_of(cid[0]) > kMaxConfigId ? 0 : config_id_of(cid[0]);
  const CidCodec& c = codec_for(id, sid, nonce, key, encode_length);

  const auto s = c.server_id(cid);
  const auto p = c.decrypt(cid);
  CHECK(s.has_value() == p.has_value());
  if (s) {
    CHECK(*s == p->server_id);
    CHECK(cid.size() >= 1 + sid + nonce);
    // Re-encoding the plaintext gives the input back, first octet included.
    if (cid.size() <= ConnectionId::kMaxLength) {
      auto again = c.encode(p->server_id.bytes(), p->nonce.bytes(), cid.subspan(1 + sid + nonce),
                            static_cast<std::uint8_t>(cid[0] & kLengthMask));
      CHECK(again.ok());
      CHECK(again->size() == cid.size());
      CHECK(std::memcmp(again->data(), cid.data(), cid.size()) == 0);
    }
  }
  const auto q = c.server_id_in_prefix(cid);
  if (q) {
    // The CID it found: the self-described length, or (without it) any length that fits.
    const std::size_t len = encode_length ? 1 + (cid[0] & kLengthMask) : cid.size();
    CHECK(len <= cid.size());
    const auto exact = c.server_id(cid.first(len));
    CHECK(exact.has_value());
    CHECK(*exact == *q);
  }
}

void fuzz_encap(Bytes data) {
  auto d = decode_encap(data);
  if (!d) return;
  CHECK(d->payload.size() <= data.size());
  CHECK(d->payload.empty() || (d->payload.data() >= data.data() && d->payload.data() + d->payload.size() <= data.data() + data.size()));
  std::vector<std::uint8_t> out(kEncapMaxHeaderSize + d->payload.size());
  auto n = encapsulate(d->header, d->payload, out);
  CHECK(n.ok());
  CHECK(*n == encap_header_size(d->header) + d->payload.size());
  auto again = decode_encap(Bytes(out.data(), *n));
  CHECK(again.ok());
  CHECK(again->header == d->header);
  CHECK(again->payload.size() == d->payload.size());
  CHECK(d->payload.empty() || std::memcmp(again->payload.data(), d->payload.data(), d->payload.size()) == 0);
}

void fuzz_route(Bytes data) {
  static const SocketAddress client = SocketAddress::from_ipv4({198, 51, 100, 1}, 40000);
  static const SocketAddress listen = SocketAddress::from_ipv4({203, 0, 113, 1}, 443);
  const Route r = router().route(data, client, listen);
  if (r.reason == RouteReason::kMalformed) {
    CHECK(!r.backend.has_value());
  } else {
    CHECK(r.backend.has_value());
    CHECK(*r.backend < router().backends().size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    fuzz_encap(Bytes(data, size));
    fuzz_route(Bytes(data, size));
    return 0;
  }
  const Bytes rest(data + 2, size - 2);
  fuzz_cid(data[0], data[1], rest);
  fuzz_encap(rest);
  fuzz_route(rest);
  return 0;
}
