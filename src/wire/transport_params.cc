#include "wire/transport_params.h"

#include <algorithm>
#include <string_view>

#include "wire/varint.h"

namespace roam::wire {
namespace {

using Id = TransportParameterId;

constexpr std::uint64_t raw(Id id) { return static_cast<std::uint64_t>(id); }

Error param_error(std::string_view reason) {
  return Error{TransportError::kTransportParameterError, reason, 0};
}

// The integer-valued parameters, with their default and valid range [min, max].
struct IntParam {
  Id id;
  std::uint64_t TransportParameters::*field;
  std::uint64_t def;
  std::uint64_t min;
  std::uint64_t max;
  std::string_view invalid;  // reason when the value is out of range
};

constexpr IntParam kIntParams[] = {
    {Id::kMaxIdleTimeout, &TransportParameters::max_idle_timeout_ms, 0, 0, kVarintMax, "max_idle_timeout out of range"},
    {Id::kMaxUdpPayloadSize, &TransportParameters::max_udp_payload_size, kDefaultMaxUdpPayloadSize,
     kMinMaxUdpPayloadSize, kVarintMax, "max_udp_payload_size below 1200"},
    {Id::kInitialMaxData, &TransportParameters::initial_max_data, 0, 0, kVarintMax, "initial_max_data out of range"},
    {Id::kInitialMaxStreamDataBidiLocal, &TransportParameters::initial_max_stream_data_bidi_local, 0, 0, kVarintMax,
     "initial_max_stream_data_bidi_local out of range"},
    {Id::kInitialMaxStreamDataBidiRemote, &TransportParameters::initial_max_stream_data_bidi_remote, 0, 0,
     kVarintMax, "initial_max_stream_data_bidi_remote out of range"},
    {Id::kInitialMaxStreamDataUni, &TransportParameters::initial_max_stream_data_uni, 0, 0, kVarintMax,
     "initial_max_stream_data_uni out of range"},
    {Id::kInitialMaxStreamsBidi, &TransportParameters::initial_max_streams_bidi, 0, 0, kMaxStreamsLimit,
     "initial_max_streams_bidi above 2^60"},
    {Id::kInitialMaxStreamsUni, &TransportParameters::initial_max_streams_uni, 0, 0, kMaxStreamsLimit,
     "initial_max_streams_uni above 2^60"},
    {Id::kAckDelayExponent, &TransportParameters::ack_delay_exponent, kDefaultAckDelayExponent, 0,
     kMaxAckDelayExponent, "ack_delay_exponent above 20"},
    {Id::kMaxAckDelay, &TransportParameters::max_ack_delay_ms, kDefaultMaxAckDelayMs, 0, kMaxAckDelayLimitMs - 1,
     "max_ack_delay of 2^14 or more"},
    {Id::kActiveConnectionIdLimit, &TransportParameters::active_connection_id_limit,
     kDefaultActiveConnectionIdLimit, 2, kVarintMax, "active_connection_id_limit below 2"},
};

const IntParam* find_int_param(std::uint64_t id) {
  for (const auto& p : kIntParams) {
    if (raw(p.id) == id) return &p;
  }
  return nullptr;
}

bool is_server_only(std::uint64_t id) {
  return id == raw(Id::kOriginalDestinationConnectionId) || id == raw(Id::kStatelessResetToken) ||
         id == raw(Id::kPreferredAddress) || id == raw(Id::kRetrySourceConnectionId);
}

// A varint that fills `value` exactly.
bool read_exact_varint(Bytes value, std::uint64_t& out) {
  Reader r(value);
  return r.read_varint(out) && r.empty();
}

template <std::size_t N>
bool read_array(Reader& r, std::array<std::uint8_t, N>& out) {
  Bytes b;
  if (!r.read_bytes(N, b)) return false;
  std::copy(b.begin(), b.end(), out.begin());
  return true;
}

Result<PreferredAddress> decode_preferred_address(Bytes value) {
  Reader r(value);
  PreferredAddress pa;
  std::uint8_t cid_len = 0;
  Bytes cid;
  if (!read_array(r, pa.ipv4) || !r.read_u16(pa.ipv4_port) || !read_array(r, pa.ipv6) ||
      !r.read_u16(pa.ipv6_port) || !r.read_u8(cid_len)) {
    return param_error("preferred_address truncated");
  }
  if (cid_len == 0) return param_error("preferred_address with zero-length connection ID");
  if (cid_len > ConnectionId::kMaxLength) return param_error("preferred_address connection ID longer than 20");
  if (!r.read_bytes(cid_len, cid) || !read_array(r, pa.reset_token)) {
    return param_error("preferred_address truncated");
  }
  if (!r.empty()) return param_error("preferred_address has trailing bytes");
  pa.cid = ConnectionId(cid);
  return pa;
}

Result<ConnectionId> decode_cid(Bytes value) {
  if (value.size() > ConnectionId::kMaxLength) return param_error("connection ID parameter longer than 20 bytes");
  return ConnectionId(value);
}

// Decodes one parameter into p. Duplicates are detected by the caller.
Status decode_one(TransportParameters& p, std::uint64_t id, Bytes value, Perspective sender) {
  if (sender == Perspective::kClient && is_server_only(id)) {
    return param_error("server-only transport parameter sent by a client");
  }
  if (const IntParam* ip = find_int_param(id)) {
    std::uint64_t v = 0;
    if (!read_exact_varint(value, v)) return param_error("integer transport parameter does not fill its length");
    p.*(ip->field) = v;
    return {};
  }
  switch (static_cast<Id>(id)) {
    case Id::kOriginalDestinationConnectionId:
    case Id::kInitialSourceConnectionId:
    case Id::kRetrySourceConnectionId: {
      auto cid = decode_cid(value);
      if (!cid) return cid.error();
      auto& field = id == raw(Id::kOriginalDestinationConnectionId) ? p.original_destination_connection_id
                    : id == raw(Id::kInitialSourceConnectionId)     ? p.initial_source_connection_id
                                                                    : p.retry_source_connection_id;
      field = *cid;
      return {};
    }
    case Id::kStatelessResetToken: {
      if (value.size() != StatelessResetToken{}.size()) return param_error("stateless_reset_token is not 16 bytes");
      StatelessResetToken token{};
      std::copy(value.begin(), value.end(), token.begin());
      p.stateless_reset_token = token;
      return {};
    }
    case Id::kDisableActiveMigration:
      if (!value.empty()) return param_error("disable_active_migration with a value");
      p.disable_active_migration = true;
      return {};
    case Id::kPreferredAddress: {
      auto pa = decode_preferred_address(value);
      if (!pa) return pa.error();
      p.preferred_address = *pa;
      return {};
    }
    case Id::kMaxDatagramFrameSize: {
      std::uint64_t v = 0;
      if (!read_exact_varint(value, v)) return param_error("max_datagram_frame_size does not fill its length");
      p.max_datagram_frame_size = v;
      return {};
    }
    default:
      return {};  // unknown or reserved (GREASE): ignored
  }
}

void write_param(Writer& w, Id id, Bytes value) {
  w.write_varint(raw(id));
  w.write_varint(value.size());
  w.write_bytes(value);
}

void write_int_param(Writer& w, Id id, std::uint64_t v) {
  w.write_varint(raw(id));
  w.write_varint(varint_size(v));
  w.write_varint(v);
}

void write_preferred_address(Writer& w, const PreferredAddress& pa) {
  w.write_varint(raw(Id::kPreferredAddress));
  w.write_varint(4 + 2 + 16 + 2 + 1 + pa.cid.size() + 16);
  w.write_bytes(pa.ipv4);
  w.write_u16(pa.ipv4_port);
  w.write_bytes(pa.ipv6);
  w.write_u16(pa.ipv6_port);
  w.write_u8(static_cast<std::uint8_t>(pa.cid.size()));
  w.write_bytes(pa.cid.bytes());
  w.write_bytes(pa.reset_token);
}

// Every defined parameter, in the order they are written (ascending identifier).
constexpr Id kEncodeOrder[] = {
    Id::kOriginalDestinationConnectionId, Id::kMaxIdleTimeout, Id::kStatelessResetToken,
    Id::kMaxUdpPayloadSize, Id::kInitialMaxData, Id::kInitialMaxStreamDataBidiLocal,
    Id::kInitialMaxStreamDataBidiRemote, Id::kInitialMaxStreamDataUni, Id::kInitialMaxStreamsBidi,
    Id::kInitialMaxStreamsUni, Id::kAckDelayExponent, Id::kMaxAckDelay, Id::kDisableActiveMigration,
    Id::kPreferredAddress, Id::kActiveConnectionIdLimit, Id::kInitialSourceConnectionId,
    Id::kRetrySourceConnectionId, Id::kMaxDatagramFrameSize,
};

// Writes parameter `id` of p if it is present and differs from its default.
void encode_one(Writer& w, const TransportParameters& p, Id id) {
  if (const IntParam* ip = find_int_param(raw(id))) {
    const std::uint64_t v = p.*(ip->field);
    if (v != ip->def) write_int_param(w, id, v);
    return;
  }
  const auto write_cid = [&](const std::optional<ConnectionId>& cid) {
    if (cid) write_param(w, id, cid->bytes());
  };
  switch (id) {
    case Id::kOriginalDestinationConnectionId: return write_cid(p.original_destination_connection_id);
    case Id::kInitialSourceConnectionId: return write_cid(p.initial_source_connection_id);
    case Id::kRetrySourceConnectionId: return write_cid(p.retry_source_connection_id);
    case Id::kStatelessResetToken:
      if (p.stateless_reset_token) write_param(w, id, *p.stateless_reset_token);
      return;
    case Id::kDisableActiveMigration:
      if (p.disable_active_migration) write_param(w, id, {});
      return;
    case Id::kPreferredAddress:
      if (p.preferred_address) write_preferred_address(w, *p.preferred_address);
      return;
    case Id::kMaxDatagramFrameSize:
      if (p.max_datagram_frame_size) write_int_param(w, id, *p.max_datagram_frame_size);
      return;
    default:
      return;  // integer parameters are handled above
  }
}

// Room for every defined parameter at its largest encoding (under 300 bytes); GREASE is added.
constexpr std::size_t kEncodeBound = 512;

}  // namespace

bool PreferredAddress::has_ipv4() const {
  return ipv4_port != 0 || std::any_of(ipv4.begin(), ipv4.end(), [](std::uint8_t b) { return b != 0; });
}

bool PreferredAddress::has_ipv6() const {
  return ipv6_port != 0 || std::any_of(ipv6.begin(), ipv6.end(), [](std::uint8_t b) { return b != 0; });
}

GreaseParameter make_grease_parameter(Random& rng) {
  // Vary the identifier's varint length (1, 2, 4 or 8 bytes, mostly) across calls.
  constexpr std::uint64_t kBounds[] = {2, 1u << 8, 1u << 24, kMaxGreaseN + 1};
  GreaseParameter g;
  g.n = rng.uniform(kBounds[rng.uniform(4)]);
  g.value.resize(static_cast<std::size_t>(rng.uniform(17)));
  rng.fill(g.value);
  return g;
}

Status validate_transport_parameters(const TransportParameters& p, Perspective sender) {
  for (const auto& ip : kIntParams) {
    const std::uint64_t v = p.*(ip.field);
    if (v < ip.min || v > ip.max) return param_error(ip.invalid);
  }
  if (p.max_datagram_frame_size && *p.max_datagram_frame_size > kVarintMax) {
    return param_error("max_datagram_frame_size out of range");
  }
  if (sender == Perspective::kClient &&
      (p.original_destination_connection_id || p.stateless_reset_token || p.preferred_address ||
       p.retry_source_connection_id)) {
    return param_error("server-only transport parameter sent by a client");
  }
  if (p.preferred_address) {
    if (p.preferred_address->cid.empty()) return param_error("preferred_address with zero-length connection ID");
    // RFC 9000 18.2: a server that chose a zero-length connection ID must not send one.
    if (p.initial_source_connection_id && p.initial_source_connection_id->empty()) {
      return param_error("preferred_address from a server using zero-length connection IDs");
    }
  }
  return {};
}

Result<TransportParameters> decode_transport_parameters(Bytes data, Perspective sender) {
  TransportParameters p;
  std::vector<std::uint64_t> seen;
  Reader r(data);
  while (!r.empty()) {
    std::uint64_t id = 0;
    std::uint64_t len = 0;
    Bytes value;
    if (!r.read_varint(id) || !r.read_varint(len) || len > r.remaining() ||
        !r.read_bytes(static_cast<std::size_t>(len), value)) {
      return param_error("truncated transport parameter");
    }
    seen.push_back(id);
    if (auto st = decode_one(p, id, value, sender); !st) return st.error();
  }
  std::sort(seen.begin(), seen.end());
  if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) {
    return param_error("duplicate transport parameter");
  }
  if (auto st = validate_transport_parameters(p, sender); !st) return st.error();
  return p;
}

Result<std::vector<std::uint8_t>> encode_transport_parameters(const TransportParameters& p, Perspective sender,
                                                              const EncodeOptions& options) {
  if (auto st = validate_transport_parameters(p, sender); !st) return st.error();
  if (options.grease && options.grease->n > kMaxGreaseN) return param_error("GREASE identifier out of range");

  const std::size_t grease_size = options.grease ? 16 + options.grease->value.size() : 0;
  std::vector<std::uint8_t> out(kEncodeBound + grease_size);
  Writer w(out);
  if (options.grease) {
    w.write_varint(options.grease->id());
    w.write_varint(options.grease->value.size());
    w.write_bytes(options.grease->value);
  }
  for (Id id : kEncodeOrder) encode_one(w, p, id);
  if (!w.ok()) return Error{TransportError::kInternalError, "transport parameter encoding overflow", 0};
  out.resize(w.size());
  return out;
}

Status validate_cid_parameters(const TransportParameters& p, Perspective sender, const ConnectionId& expected_odcid,
                               const ConnectionId& expected_initial_scid,
                               const std::optional<ConnectionId>& expected_retry_scid) {
  if (!p.initial_source_connection_id) return param_error("initial_source_connection_id missing");
  if (*p.initial_source_connection_id != expected_initial_scid) {
    return param_error("initial_source_connection_id does not match the Initial packet");
  }
  if (sender == Perspective::kClient) {
    if (p.original_destination_connection_id || p.retry_source_connection_id) {
      return param_error("server-only connection ID parameter sent by a client");
    }
    return {};
  }
  if (!p.original_destination_connection_id) return param_error("original_destination_connection_id missing");
  if (*p.original_destination_connection_id != expected_odcid) {
    return param_error("original_destination_connection_id does not match the first Initial");
  }
  if (expected_retry_scid) {
    if (!p.retry_source_connection_id) return param_error("retry_source_connection_id missing after a Retry");
    if (*p.retry_source_connection_id != *expected_retry_scid) {
      return param_error("retry_source_connection_id does not match the Retry packet");
    }
  } else if (p.retry_source_connection_id) {
    return param_error("retry_source_connection_id without a Retry");
  }
  return {};
}

}  // namespace roam::wire
