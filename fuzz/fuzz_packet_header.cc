// Fuzzes the invariant and version-specific header parsers, walking coalesced packets by
// packet_size with several short-header DCID lengths, and re-encodes every parsed header with the
// builders: the re-encoded packet must parse to the same fields (and, for fixed-width formats,
// the same bytes). Any disagreement aborts.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz_check.h"

#include "wire/packet_header.h"

namespace {

using namespace roam;
using namespace roam::wire;

// An empty span may point anywhere; a non-empty one must lie inside the input.
bool within(Bytes b, const std::uint8_t* data, std::size_t size) {
  return b.empty() || (b.data() >= data && b.data() + b.size() <= data + size);
}

bool same(Bytes a, Bytes b) { return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()); }

void check_against_invariant(Bytes packet, std::size_t dcid_len, const PacketHeader& h) {
  auto inv = parse_invariant_header(packet, dcid_len);
  CHECK(inv.ok());
  CHECK(inv->is_long == (h.type != PacketType::kOneRtt));
  CHECK(inv->first_byte == h.first_byte);
  CHECK(inv->version == h.version);
  CHECK(same(inv->dcid, h.dcid.bytes()));
  CHECK(same(inv->scid, h.scid.bytes()));
}

void reencode_long(Bytes packet, const PacketHeader& h) {
  const std::size_t length = h.packet_size - h.pn_offset;
  if (length > 16383) return;  // the builder's Length placeholder is two bytes
  const std::size_t pn_len = (h.first_byte & kPacketNumberLengthMask) + 1u;
  Reader pr(packet.subspan(h.pn_offset, pn_len));
  std::uint64_t pn = 0;
  CHECK(pr.read_uint(pn_len, pn));
  std::vector<std::uint8_t> buf(h.packet_size + 16);
  Writer w(buf);
  LongHeaderOut out;
  CHECK(write_long_header(w, h.type, h.version, h.dcid, h.scid, h.token, pn, pn_len, out));
  CHECK(w.write_bytes(packet.subspan(h.pn_offset + pn_len, length - pn_len)));
  CHECK(patch_length(buf, out.length_offset, length));
  auto again = parse_packet_header(w.written(), 0);
  CHECK(again.ok());
  CHECK(again->type == h.type && again->version == h.version);
  CHECK(again->dcid == h.dcid && again->scid == h.scid);
  CHECK(same(again->token, h.token));
  CHECK(again->packet_size - again->pn_offset == length);
  CHECK(again->pn_offset == out.pn_offset);
  CHECK(same(w.written().subspan(out.pn_offset), packet.subspan(h.pn_offset, length)));
  CHECK((again->first_byte & 0xf0) == (h.first_byte & 0xf0));
}

void reencode(Bytes packet, std::size_t dcid_len, const PacketHeader& h) {
  switch (h.type) {
    case PacketType::kInitial:
    case PacketType::kZeroRtt:
    case PacketType::kHandshake: reencode_long(packet, h); break;
    case PacketType::kRetry: {
      std::vector<std::uint8_t> buf(packet.size());
      const std::size_t n = write_retry_without_tag(buf, h.version, h.dcid, h.scid, h.token, h.first_byte);
      CHECK(n == packet.size() - kRetryIntegrityTagLength);
      CHECK(same(Bytes(buf).first(n), packet.first(n)));
      break;
    }
    case PacketType::kVersionNegotiation: {
      std::vector<std::uint8_t> buf(packet.size());
      const std::size_t n =
          write_version_negotiation(buf, h.dcid.bytes(), h.scid.bytes(), h.supported_versions, h.first_byte);
      CHECK(n == packet.size());
      CHECK(buf[0] == (packet[0] | kFixedBit));
      CHECK(same(Bytes(buf).subspan(1), packet.subspan(1)));
      break;
    }
    case PacketType::kOneRtt: {
      const std::size_t pn_len = (h.first_byte & kPacketNumberLengthMask) + 1u;
      Reader pr(packet.subspan(h.pn_offset, pn_len));
      std::uint64_t pn = 0;
      CHECK(pr.read_uint(pn_len, pn));
      std::vector<std::uint8_t> buf(1 + dcid_len + 4);
      Writer w(buf);
      std::size_t pn_offset = 0;
      CHECK(write_short_header(w, h.dcid, (h.first_byte & kKeyPhaseBit) != 0, (h.first_byte & kSpinBit) != 0, pn,
                               pn_len, pn_offset));
      CHECK(pn_offset == h.pn_offset);
      CHECK(buf[0] == (h.first_byte & ~kShortReservedBits));
      CHECK(same(w.written().subspan(1), packet.first(h.pn_offset + pn_len).subspan(1)));
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes datagram(data, size);
  for (std::size_t dcid_len : {0u, 4u, 8u, 20u, 21u}) {
    auto inv = parse_invariant_header(datagram, dcid_len);
    if (inv.ok()) {
      CHECK(within(inv->dcid, data, size) && within(inv->scid, data, size));
      if (inv->is_long) {
        std::vector<std::uint8_t> vn(1 + 4 + 2 + 510 + 8);
        const std::uint32_t versions[] = {kVersion1, grease_version(inv->version)};
        CHECK(write_version_negotiation_reply(vn, *inv, versions, inv->first_byte) ==
              1 + 4 + 2 + inv->dcid.size() + inv->scid.size() + 8);
      }
    }
    Bytes rest = datagram;
    while (!rest.empty()) {
      auto h = parse_packet_header(rest, dcid_len);
      if (!h.ok()) break;
      CHECK(h->packet_size >= 1 && h->packet_size <= rest.size());
      const bool has_pn = h->type != PacketType::kRetry && h->type != PacketType::kVersionNegotiation;
      if (has_pn) CHECK(h->pn_offset + kMinBytesAfterPnOffset <= h->packet_size);
      if (h->type == PacketType::kRetry) CHECK(h->retry_integrity_tag.size() == kRetryIntegrityTagLength);
      if (h->type == PacketType::kVersionNegotiation) CHECK(!h->supported_versions.empty());
      const Bytes packet = rest.first(h->packet_size);
      check_against_invariant(packet, dcid_len, *h);
      reencode(packet, dcid_len, *h);
      rest = rest.subspan(h->packet_size);
    }
  }
  return 0;
}
