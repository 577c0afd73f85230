// Per-connection settings chosen by the application or endpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cid/generator.h"
#include "qlog/qlog.h"

#include "common/socket_address.h"
#include "common/types.h"

namespace roam::conn {

enum class Side : std::uint8_t { kClient, kServer };
enum class CongestionControl : std::uint8_t { kNewReno, kCubic };

struct ConnectionConfig {
  // Our transport parameters (RFC 9000 18.2). CID parameters are filled in by the connection.
  std::uint64_t max_idle_timeout_ms = 30'000;
  std::uint64_t initial_max_data = 16 * 1024 * 1024;
  std::uint64_t initial_max_stream_data_bidi_local = 4 * 1024 * 1024;
  std::uint64_t initial_max_stream_data_bidi_remote = 4 * 1024 * 1024;
  std::uint64_t initial_max_stream_data_uni = 4 * 1024 * 1024;
  std::uint64_t initial_max_streams_bidi = 100;
  std::uint64_t initial_max_streams_uni = 100;
  std::uint64_t active_connection_id_limit = 4;
  std::uint64_t max_datagram_frame_size = 0;  // 0: DATAGRAM frames not accepted (parameter absent)
  std::uint64_t ack_delay_exponent = 3;
  std::uint64_t max_ack_delay_ms = 25;
  bool disable_active_migration = false;

  CongestionControl congestion_control = CongestionControl::kCubic;
  Duration initial_rtt = std::chrono::milliseconds(333);  // RFC 9002 6.2.2
  // Payload size of the UDP datagrams we build (the QUIC packet, not IP/UDP headers). 1200 is
  // always safe; path MTU discovery raises it per path.
  std::size_t max_datagram_size = 1200;
  std::size_t local_cid_length = 8;  // used when no generator is given
  // Source of our CIDs (random by default; QUIC-LB routable CIDs later) and the static key that
  // derives each CID's stateless reset token (shared by all instances that may see the CID).
  std::shared_ptr<const cid::CidGenerator> cid_generator;
  std::vector<std::uint8_t> reset_key;
  // qlog: when set, called once per connection (original DCID, is-server) for the sink its
  // events go to; nullptr from the factory means no qlog for that connection.
  std::function<std::unique_ptr<qlog::Sink>(const ConnectionId& odcid, bool server)> qlog_sink_factory;
  // Migration (RFC 9000 9). Server: addresses to advertise in the preferred_address transport
  // parameter (the application must also receive on them).
  std::optional<SocketAddress> preferred_address_v4;
  std::optional<SocketAddress> preferred_address_v6;
  // Client: move to the server's preferred address after the handshake (9.6.1).
  bool follow_preferred_address = true;
  // Client: when the active path stops answering (repeated PTOs), move to another validated path.
  bool auto_failover = true;
  // Paths kept per connection (the active one, a fallback, probes); older ones are dropped.
  std::size_t max_paths = 4;
  // PMTU discovery (RFC 8899, RFC 9000 14.3) probes up to this UDP payload size (1472 fills a
  // 1500-byte IPv4 Ethernet MTU; 20 bytes less on IPv6); 0 or <= 1200 turns it off.
  std::size_t pmtu_max = 1472;
  // Mark packets ECT(0) and validate the path's ECN support (RFC 9000 13.4).
  bool ecn = true;
  // Server: mints a NEW_TOKEN token for a client address (RFC 9000 8.1.3); the endpoint sets it.
  std::function<std::vector<std::uint8_t>(const SocketAddress& peer)> new_token;
  // Sends a PING after this much idle time so NAT mappings stay alive (0: off).
  Duration keep_alive = Duration::zero();
};

}  // namespace roam::conn
