// The identity table: maps connection IDs (never 4-tuples) to connections, creates server
// connections from Initials and answers what belongs to no connection (Version Negotiation).
// Sans-IO like the connection: datagrams and time in, datagrams and timers out.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/random.h"
#include "common/types.h"
#include "conn/connection.h"
#include "crypto/retry.h"
#include "crypto/tokens.h"
#include "tls/context.h"

namespace roam::endpoint {

using ConnectionHandle = std::uint64_t;

// Stateless resets we may send: a token bucket so a flood of unknown packets cannot turn us into
// a reflector (RFC 9000 10.3).
struct ResetLimits {
  double per_second = 100;
  double burst = 20;
};

struct EndpointConfig {
  bool server = false;
  conn::ConnectionConfig connection;
  std::size_t max_connections = 10'000;
  ResetLimits reset_limits;
  // Server: answer every Initial without a valid token with Retry (RFC 9000 8.1.2), so the client
  // proves its address before any handshake work or amplification.
  bool require_retry = false;
  Duration retry_token_lifetime = std::chrono::seconds(10);
  // Server: give clients NEW_TOKEN tokens (RFC 9000 8.1.3); a later Initial that carries a valid
  // one from the same IP needs neither Retry nor the anti-amplification limit.
  bool issue_new_tokens = true;
  Duration new_token_lifetime = std::chrono::hours(24);
};

struct EndpointStats {
  std::uint64_t datagrams_received = 0;
  std::uint64_t datagrams_dropped = 0;  // unknown CID, too small Initial, unparseable
  std::uint64_t version_negotiations_sent = 0;
  std::uint64_t connections_accepted = 0;
  std::uint64_t stateless_resets_sent = 0;
  std::uint64_t retries_sent = 0;
  std::uint64_t invalid_tokens = 0;
  std::uint64_t new_tokens_issued = 0;
  std::uint64_t new_tokens_accepted = 0;
};

class Endpoint {
 public:
  Endpoint(const EndpointConfig& config, std::shared_ptr<tls::TlsContext> tls, Random& random);
  ~Endpoint();

  // Client: starts a connection. The first Initial leaves on the next poll_transmit. With
  // `resume`, the session is resumed and 0-RTT data may go with the first flight.
  Result<ConnectionHandle> connect(std::string_view server_name, const SocketAddress& local,
                                   const SocketAddress& peer, Instant now,
                                   const conn::ResumptionState* resume = nullptr);

  // `data` is decrypted in place.
  void on_datagram(const SocketAddress& local, const SocketAddress& peer, std::uint8_t ecn, MutBytes data,
                   Instant now);
  // Next batch to send: from endpoint-level replies first, then connections in turn.
  std::optional<conn::Transmit> poll_transmit(Instant now, MutBytes buf, std::size_t max_datagrams);
  std::optional<Instant> next_timeout() const;
  void on_timeout(Instant now);

  // Server: connections accepted since the last call.
  std::optional<ConnectionHandle> accept();
  conn::Connection* connection(ConnectionHandle h);
  // Forgets connections whose closing/draining ended. Returns how many were removed.
  std::size_t reap();
  std::size_t connection_count() const { return conns_.size(); }
  const EndpointStats& stats() const { return stats_; }
  template <class F>
  void for_each_connection(F&& f) {
    for (auto& [h, c] : conns_) f(h, *c);
  }

 private:
  struct Reply {
    SocketAddress local;
    SocketAddress peer;
    std::vector<std::uint8_t> bytes;
  };
  void register_cids(ConnectionHandle h, conn::Connection& c);
  void handle_unknown(const wire::InvariantHeader& inv, const SocketAddress& local, const SocketAddress& peer,
                      MutBytes data, Instant now);
  void send_retry(const SocketAddress& local, const SocketAddress& peer, const wire::PacketHeader& hdr, Instant now);
  // The original DCID a Retry token was issued for, if the token is ours, fresh and for this peer.
  std::optional<ConnectionId> check_retry_token(Bytes token, const SocketAddress& peer, Instant now);
  std::vector<std::uint8_t> mint_new_token(const SocketAddress& peer);
  bool check_new_token(Bytes token, const SocketAddress& peer, Instant now);
  void maybe_send_stateless_reset(const SocketAddress& local, const SocketAddress& peer, const ConnectionId& dcid,
                                  std::size_t received, Instant now);

  EndpointConfig config_;
  std::shared_ptr<tls::TlsContext> tls_;
  Random& random_;
  std::unordered_map<ConnectionHandle, std::unique_ptr<conn::Connection>> conns_;
  std::unordered_map<ConnectionId, ConnectionHandle, ConnectionIdHash> by_cid_;
  std::unordered_map<ConnectionHandle, std::vector<ConnectionId>> cids_of_;
  std::deque<ConnectionHandle> accepted_;
  std::deque<Reply> replies_;
  std::vector<ConnectionHandle> send_order_;
  std::size_t send_cursor_ = 0;
  ConnectionHandle next_handle_ = 1;
  std::optional<crypto::TokenCipher> token_cipher_;
  std::optional<crypto::RetryIntegrity> retry_integrity_;
  double reset_tokens_ = 0;
  Instant now_{};  // the latest time we were called with (NEW_TOKEN tokens carry it)
  std::optional<Instant> reset_refill_;
  EndpointStats stats_;
};

}  // namespace roam::endpoint
