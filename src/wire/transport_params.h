// QUIC transport parameters (RFC 9000 sections 7.3, 7.4 and 18; RFC 9221 section 3): the
// quic_transport_parameters TLS extension payload, decoded into a struct with the RFC defaults
// and encoded back. Decoding never reads out of bounds; every rejection is a
// TRANSPORT_PARAMETER_ERROR value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/error.h"
#include "common/random.h"
#include "common/types.h"

namespace roam::wire {

// Which endpoint SENT the parameters: a server accepts parameters sent by a client and the other
// way round. Some parameters are server-only (RFC 9000 18.2).
enum class Perspective { kClient, kServer };

using StatelessResetToken = std::array<std::uint8_t, 16>;

// Transport parameter identifiers (RFC 9000 18.2, RFC 9221 3).
enum class TransportParameterId : std::uint64_t {
  kOriginalDestinationConnectionId = 0x00,
  kMaxIdleTimeout = 0x01,
  kStatelessResetToken = 0x02,
  kMaxUdpPayloadSize = 0x03,
  kInitialMaxData = 0x04,
  kInitialMaxStreamDataBidiLocal = 0x05,
  kInitialMaxStreamDataBidiRemote = 0x06,
  kInitialMaxStreamDataUni = 0x07,
  kInitialMaxStreamsBidi = 0x08,
  kInitialMaxStreamsUni = 0x09,
  kAckDelayExponent = 0x0a,
  kMaxAckDelay = 0x0b,
  kDisableActiveMigration = 0x0c,
  kPreferredAddress = 0x0d,
  kActiveConnectionIdLimit = 0x0e,
  kInitialSourceConnectionId = 0x0f,
  kRetrySourceConnectionId = 0x10,
  kMaxDatagramFrameSize = 0x20,
};

// The server's preferred address in its wire form. An all-zero address and port means that
// address family is not offered. The CID is 1..20 bytes (sequence number 1).
struct PreferredAddress {
  std::array<std::uint8_t, 4> ipv4{};
  std::uint16_t ipv4_port = 0;
  std::array<std::uint8_t, 16> ipv6{};
  std::uint16_t ipv6_port = 0;
  ConnectionId cid;
  StatelessResetToken reset_token{};

  bool has_ipv4() const;
  bool has_ipv6() const;
  friend bool operator==(const PreferredAddress&, const PreferredAddress&) = default;
};

inline constexpr std::uint64_t kDefaultMaxUdpPayloadSize = 65527;
inline constexpr std::uint64_t kMinMaxUdpPayloadSize = 1200;
inline constexpr std::uint64_t kDefaultAckDelayExponent = 3;
inline constexpr std::uint64_t kMaxAckDelayExponent = 20;
inline constexpr std::uint64_t kDefaultMaxAckDelayMs = 25;
inline constexpr std::uint64_t kMaxAckDelayLimitMs = 1ull << 14;  // values >= this are invalid
inline constexpr std::uint64_t kDefaultActiveConnectionIdLimit = 2;
inline constexpr std::uint64_t kMaxStreamsLimit = 1ull << 60;

// One endpoint's transport parameters. Every field holds the RFC default when the parameter is
// absent; std::optional marks parameters whose absence means something different from any value.
struct TransportParameters {
  std::optional<ConnectionId> original_destination_connection_id;  // server only
  std::uint64_t max_idle_timeout_ms = 0;                            // 0: no idle timeout
  std::optional<StatelessResetToken> stateless_reset_token;         // server only
  std::uint64_t max_udp_payload_size = kDefaultMaxUdpPayloadSize;
  std::uint64_t initial_max_data = 0;
  std::uint64_t initial_max_stream_data_bidi_local = 0;
  std::uint64_t initial_max_stream_data_bidi_remote = 0;
  std::uint64_t initial_max_stream_data_uni = 0;
  std::uint64_t initial_max_streams_bidi = 0;
  std::uint64_t initial_max_streams_uni = 0;
  std::uint64_t ack_delay_exponent = kDefaultAckDelayExponent;
  std::uint64_t max_ack_delay_ms = kDefaultMaxAckDelayMs;
  bool disable_active_migration = false;
  std::optional<PreferredAddress> preferred_address;  // server only
  std::uint64_t active_connection_id_limit = kDefaultActiveConnectionIdLimit;
  std::optional<ConnectionId> initial_source_connection_id;
  std::optional<ConnectionId> retry_source_connection_id;  // server only
  std::optional<std::uint64_t> max_datagram_frame_size;    // absent: no DATAGRAM support (RFC 9221)

  Duration max_idle_timeout() const { return std::chrono::milliseconds(max_idle_timeout_ms); }
  Duration max_ack_delay() const { return std::chrono::milliseconds(max_ack_delay_ms); }

  friend bool operator==(const TransportParameters&, const TransportParameters&) = default;
};

// A reserved parameter (identifier 31 * n + 27, RFC 9000 18.1) sent so that peers that fail on
// unknown parameters are caught. n must keep the identifier within the varint range.
struct GreaseParameter {
  std::uint64_t n = 0;
  std::vector<std::uint8_t> value;

  std::uint64_t id() const { return 31 * n + 27; }
};

inline constexpr std::uint64_t kMaxGreaseN = ((1ull << 62) - 1 - 27) / 31;

// Picks a reserved identifier and 0..16 random-looking value bytes from rng.
GreaseParameter make_grease_parameter(Random& rng);

struct EncodeOptions {
  std::optional<GreaseParameter> grease;  // written first, before the defined parameters
};

// Checks the value rules of RFC 9000 18.2 and RFC 9221 3 that a decoded or to-be-sent set must
// meet: value limits, server-only parameters from a client, preferred_address constraints.
Status validate_transport_parameters(const TransportParameters& params, Perspective sender);

// Parses the quic_transport_parameters extension payload sent by `sender`. Unknown and reserved
// parameters are ignored; duplicates, malformed or truncated values and invalid values are
// TRANSPORT_PARAMETER_ERROR.
Result<TransportParameters> decode_transport_parameters(Bytes data, Perspective sender);

// Encodes params as sent by `sender`. Parameters equal to their default are omitted (the peer
// assumes the same value). Fails with TRANSPORT_PARAMETER_ERROR if params would not pass
// validate_transport_parameters, or if the GREASE identifier is out of range.
Result<std::vector<std::uint8_t>> encode_transport_parameters(const TransportParameters& params,
                                                              Perspective sender,
                                                              const EncodeOptions& options = {});

// RFC 9000 7.3: checks the connection-ID parameters the peer (`sender`) sent against the handshake.
// The receiver passes the values it saw or chose:
//  - expected_odcid: the Destination CID of the client's first Initial (used when the server sent);
//  - expected_initial_scid: the Source CID of the first Initial received from the peer;
//  - expected_retry_scid: the Source CID of the Retry the client received, or nullopt if none.
// Absence of a required parameter, a mismatch, or retry_source_connection_id without a Retry is a
// TRANSPORT_PARAMETER_ERROR.
Status validate_cid_parameters(const TransportParameters& params, Perspective sender,
                               const ConnectionId& expected_odcid, const ConnectionId& expected_initial_scid,
                               const std::optional<ConnectionId>& expected_retry_scid);

}  // namespace roam::wire
