// A QUIC connection as a sans-IO state machine (RFC 9000, 9001, 9002).
//
// In:  on_datagram(datagram with its local and peer address, now), on_timeout(now), application calls.
// Out: poll_transmit(now, buffer) -> datagrams to send with their addresses (GSO-shaped batches),
//      next_timeout(), poll_event().
// No sockets, clocks, threads or global randomness: time and randomness come from the caller.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cid/local_cid_pool.h"
#include "cid/peer_cid_pool.h"
#include "common/error.h"
#include "common/random.h"
#include "common/socket_address.h"
#include "common/types.h"
#include "conn/ack_tracker.h"
#include "conn/config.h"
#include "conn/events.h"
#include "conn/path.h"
#include "conn/sent_frames.h"
#include "crypto/key_update.h"
#include "crypto/packet_keys.h"
#include "recovery/loss_detector.h"
#include "recovery/path_recovery.h"
#include "streams/crypto_stream.h"
#include "streams/stream_manager.h"
#include "tls/context.h"
#include "tls/session.h"
#include "wire/frames.h"
#include "wire/packet_header.h"
#include "wire/transport_params.h"

namespace roam::conn {

struct Datagram {
  SocketAddress local;
  SocketAddress peer;
  std::uint8_t ecn = 0;
  MutBytes data;  // decrypted in place
};

struct Transmit {
  SocketAddress local;
  SocketAddress peer;
  std::uint8_t ecn = 0;
  std::size_t size = 0;          // bytes written to the buffer
  std::size_t segment_size = 0;  // every datagram but the last has this size (GSO); == size if one
};

struct ConnectionStats {
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t packets_lost = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t packets_dropped = 0;  // undecryptable, duplicate or malformed
  Duration smoothed_rtt{};
  Duration min_rtt{};
  std::uint64_t cwnd = 0;
  // Migration (RFC 9000 9): paths we probed or the peer moved to, and CIDs through the pools.
  std::uint64_t paths_probed = 0;      // paths on which we started validation
  std::uint64_t paths_validated = 0;
  std::uint64_t paths_failed = 0;
  std::uint64_t migrations = 0;        // the active path changed (either side's doing)
  std::uint64_t nat_rebindings = 0;    // of which the peer's port changed under the same CID
  std::uint64_t cids_issued = 0;       // our CIDs, handshake CID included
  std::uint64_t cids_retired = 0;      // our CIDs the peer retired
  std::uint64_t peer_cids_retired = 0; // the peer's CIDs we retired
  // Resumption and 0-RTT.
  bool resumed = false;
  bool zero_rtt_accepted = false;      // the server took our 0-RTT data / we took the client's
  std::uint64_t zero_rtt_packets_sent = 0;
  std::uint64_t zero_rtt_packets_received = 0;
};

// A path as the application sees it.
struct PathInfo {
  PathId id{};
  SocketAddress local;
  SocketAddress peer;
  bool validated = false;
  bool active = false;
  Duration smoothed_rtt{};
  EcnState ecn = EcnState::kTesting;
  std::size_t max_datagram = 1200;  // UDP payload size in use (PMTU discovery raises it)
};

using ReadResult = streams::ReadResult;

// What a client keeps from a connection to resume the next one faster (RFC 9001 4.6, RFC 9000
// 7.4.1 and 8.1.3): the TLS session ticket, the server's transport parameters (0-RTT obeys the
// remembered limits) and a NEW_TOKEN token (the server may skip address validation). Saved with
// Connection::resumption_state() once the server sent a ticket.
struct ResumptionState {
  std::vector<std::uint8_t> tls_session;
  std::vector<std::uint8_t> transport_params;  // encoded, as the server sent them
  std::vector<std::uint8_t> token;
  // The application protocol of that connection: 0-RTT is only attempted when the client offers
  // exactly this one again (RFC 8446 4.2.10: early data belongs to the ticket's ALPN).
  std::string alpn;
};

class Connection {
 public:
  // A client connection to `peer`; sends its first Initial on the first poll_transmit.
  static Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config,
                                                     std::shared_ptr<tls::TlsContext> tls,
                                                     std::string_view server_name, const SocketAddress& local,
                                                     const SocketAddress& peer, Random& random, Instant now,
                                                     const ResumptionState* resume = nullptr);
  // A server connection for a client's first Initial packet (header already parsed by the endpoint).
  // `original_dcid` is the DCID of the client's first Initial; `retry_scid` is set when the
  // connection follows a Retry we sent (the client's current DCID is then our Retry SCID).
  static Result<std::unique_ptr<Connection>> accept(const ConnectionConfig& config,
                                                    std::shared_ptr<tls::TlsContext> tls,
                                                    const wire::PacketHeader& initial, const ConnectionId& original_dcid,
                                                    std::optional<ConnectionId> retry_scid,
                                                    const SocketAddress& local, const SocketAddress& peer,
                                                    Random& random, Instant now, bool address_validated = false);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void on_datagram(Datagram datagram, Instant now);
  // Builds up to max_datagrams datagrams into buf (segments of equal size, the last may be shorter).
  std::optional<Transmit> poll_transmit(Instant now, MutBytes buf, std::size_t max_datagrams = 1);
  std::optional<Instant> next_timeout() const;
  void on_timeout(Instant now);
  std::optional<Event> poll_event();

  // Streams.
  Result<StreamId> open_stream(bool bidirectional);
  // Queues as much of data as stream and connection buffers allow; returns the bytes taken.
  Result<std::size_t> write(StreamId id, Bytes data, bool fin);
  Result<ReadResult> read(StreamId id, MutBytes out);
  Status reset_stream(StreamId id, std::uint64_t app_error);
  Status stop_sending(StreamId id, std::uint64_t app_error);
  // Unreliable datagrams (RFC 9221); fails if the peer did not allow them or the datagram is too big.
  Status send_datagram(Bytes data);

  // Starts a 1-RTT key update (RFC 9001 6): possible once the handshake is confirmed and a packet
  // of the current key phase has been acknowledged.
  Status initiate_key_update();
  // Key generations in use for sending and receiving (0 until the first update).
  std::uint64_t write_key_generation() const { return app_keys_ ? app_keys_->write_generation() : 0; }
  std::uint64_t read_key_generation() const { return app_keys_ ? app_keys_->read_generation() : 0; }

  // Closes with an application error (CONNECTION_CLOSE 0x1d).
  void close(std::uint64_t app_error, std::string_view reason);

  Side side() const { return side_; }
  bool is_handshake_complete() const { return handshake_complete_; }
  // Client resuming a session whose ticket allows 0-RTT: streams may be opened and written now,
  // before the handshake completes (the data goes in 0-RTT packets).
  bool early_data_possible() const { return sending_0rtt() && remembered_params_; }
  bool is_established() const { return handshake_confirmed_; }
  bool is_closing() const { return state_ != State::kOpen; }
  // Fully closed (draining over): the endpoint may forget the connection.
  bool is_closed() const { return state_ == State::kClosed; }
  std::string alpn() const { return tls_ ? tls_->alpn() : std::string(); }
  const SocketAddress& peer_address() const { return active_->peer; }
  const SocketAddress& local_address() const { return active_->local; }
  ConnectionStats stats() const;
  // Client: what to keep for resuming later (nullopt until the server sent a session ticket).
  // A NEW_TOKEN the server sent is included.
  std::optional<ResumptionState> resumption_state() const;

  // Migration, client side (RFC 9000 9.2). probe_path starts validating a path from `local`
  // (a socket the application opened, e.g. on another interface) to the current peer address
  // or `peer`, with a CID never used on another path; PathValidated or PathFailed follows.
  // Fails if the peer disabled active migration, uses zero-length CIDs, gave us no spare CID,
  // or the handshake is not confirmed.
  Result<PathId> probe_path(const SocketAddress& local, Instant now,
                            std::optional<SocketAddress> peer = std::nullopt);
  // Makes `path` the active one. A validated path is switched to and the old one abandoned
  // (its CID retired). An unvalidated path is used at once while validation goes on in parallel
  // (for when the old interface is already gone); if it fails, the connection falls back to the
  // last validated path.
  Status migrate(PathId path, Instant now);
  // The local address changed under us (a NAT rebinding, or the application moved the socket)
  // without probing: the active path keeps its state and CID, and something is sent at once so
  // the peer learns the new address even if we only receive.
  Status rebind(const SocketAddress& new_local, Instant now);
  PathId active_path() const { return active_->id; }
  // The latest path changes (also raised as PathChanged events), for observers that do not own
  // the event queue: those after the first `seen` of stats().migrations (at most 16 are kept).
  std::vector<PathChanged> path_changes_since(std::uint64_t seen) const;
  std::vector<PathInfo> paths() const;

  // CIDs the endpoint must route to this connection. The endpoint drains added/retired ids after
  // each call into the connection.
  const std::vector<cid::LocalCid>& local_cids() const { return local_cids_->active(); }
  bool take_cid_update(std::vector<ConnectionId>& added, std::vector<ConnectionId>& retired);
  const ConnectionId& original_dcid() const { return original_dcid_; }
  // True if the datagram ends with a stateless reset token the peer gave us (RFC 9000 10.3.1).
  bool is_stateless_reset(Bytes datagram) const;

 private:
  enum class State : std::uint8_t { kOpen, kClosing, kDraining, kClosed };
  enum class Level : std::uint8_t { kInitial = 0, kHandshake = 1, kApplication = 2 };
  static constexpr std::size_t kLevels = 3;

  struct Space {
    AckTracker acks;
    std::uint64_t next_pn = 0;
    std::optional<std::uint64_t> largest_acked_by_peer;
    crypto::PacketKeys read;
    crypto::PacketKeys write;
    streams::CryptoStream crypto;
    bool discarded = false;
    std::uint32_t pto_probes = 0;  // ack-eliciting probes owed after a PTO
    wire::EcnCounts ecn_received;   // codepoints of the packets we received (for ACK_ECN)
    wire::EcnCounts ecn_reported;   // the peer's counts in its latest ACK that advanced
    std::uint64_t ect0_sent = 0;    // packets we sent marked ECT(0)
  };


  struct PendingClose {
    TransportError code = TransportError::kNoError;
    std::uint64_t app_code = 0;
    bool application = false;
    std::uint64_t frame_type = 0;
    std::string reason;
  };


  Connection(const ConnectionConfig& config, Side side, std::shared_ptr<tls::TlsContext> tls, Random& random,
             const SocketAddress& local, const SocketAddress& peer, Instant now);

  Status init_tls(std::string_view server_name, Bytes resumption = {});
  Status install_initial_keys(const ConnectionId& client_dcid);
  Status drive_tls();
  Status install_secret(const tls::SecretEvent& ev);
  void on_handshake_complete();
  void confirm_handshake(Instant now);
  void discard_space(Level level);
  Status apply_peer_transport_params();
  wire::TransportParameters local_transport_params() const;

  // Receiving.
  // `hdr` was parsed from `packet` by on_datagram (which needs its size to walk coalesced packets).
  void process_packet(const wire::PacketHeader& hdr, MutBytes packet, Instant now, bool& any_valid);
  Status process_frames(Level level, wire::PacketType pt, Bytes payload, bool& ack_eliciting, bool& probing_only,
                        Instant now);
  Status on_ack_frame(Level level, const wire::AckFrame& ack, Instant now);
  Status on_crypto_frame(Level level, const wire::CryptoFrame& f);
  Status on_stream_frame(const wire::StreamFrame& f);
  Status on_new_connection_id(const wire::NewConnectionIdFrame& f);
  Status on_retire_connection_id(const wire::RetireConnectionIdFrame& f);
  void issue_connection_ids();
  void on_connection_close(const wire::ConnectionCloseFrame& f, Instant now);
  void on_retry(const wire::PacketHeader& hdr, Bytes packet, Instant now);

  // Recovery callbacks.
  void on_packet_acked(const recovery::SentPacket& p, Level level);
  void on_packet_lost(const recovery::SentPacket& p, Level level);
  void handle_recovery_result(const recovery::AckOutcome& out, Level level, Instant now);

  // Sending.
  std::size_t build_datagram(Instant now, MutBytes out, std::size_t limit, bool& ack_eliciting_sent);
  std::size_t build_packet(Level level, Instant now, MutBytes out, std::size_t min_size, bool& ack_eliciting);
  bool has_data_to_send(Level level, Instant now) const;
  bool ack_due(Level level, Instant now) const;
  std::size_t write_frames(Level level, wire::Writer& w, std::uint64_t token, Instant now, bool& ack_eliciting,
                           bool& ack_needed, bool& ack_written);
  std::size_t build_close_datagram(MutBytes out, std::size_t limit);
  std::size_t build_probe_datagram(Path& path, Instant now, MutBytes out);
  std::size_t build_mtu_probe(Path& path, std::size_t size, Instant now, MutBytes out);
  // Accounting for a sent probe (path validation or PMTU): packet number, stats, loss detector;
  // `frame`, if any, is what its acknowledgment or loss reports back.
  void record_probe_packet(Path& path, std::uint64_t pn, std::size_t size, Instant now, const SentFrame* frame);
  void start_pmtu_search(Path& path);
  Path* path_needing_probe(Instant now);

  // Errors and closing.
  void close_with_error(const Error& e, Instant now);
  void enter_draining(Instant now);
  Duration pto() const;
  void push_event(Event e);
  // qlog (qlog_events.cc); each is a no-op without a qlog sink.
  void start_qlog(Instant now);
  // `path`: the tuple the packet went on or came from (the handshake path is the default tuple).
  void qlog_packet(Instant now, bool sent, Level level, std::uint64_t pn, std::size_t size, Bytes payload,
                   PathId path);
  void qlog_lost(Instant now, const recovery::SentPacket& p);
  void qlog_metrics(Instant now);
  void qlog_parameters(Instant now, bool local, const wire::TransportParameters& tp);

  // Paths and migration (migration.cc).
  class PathLookup final : public recovery::PathRecoveryLookup {
   public:
    explicit PathLookup(Connection& c) : c_(c) {}
    recovery::PathRecovery* find(PathId id) override;

   private:
    Connection& c_;
  };
  Path* find_path(PathId id);
  Path* find_path(const SocketAddress& local, const SocketAddress& peer);
  Path& add_path(const SocketAddress& local, const SocketAddress& peer, Instant now);
  void remove_path(PathId id, bool retire_cid);
  // A 1-RTT packet that decrypted arrived from a path we do not know: returns the new path, or
  // nullptr when the packet must not create one (handshake not confirmed, no spare CID).
  Path* on_new_path(const SocketAddress& local, const SocketAddress& peer, const ConnectionId& dcid, Instant now);
  void on_packet_path(Path& path, const ConnectionId& dcid, bool probing_only, bool largest, Instant now);
  void start_validation(Path& path, Instant now);
  void on_path_response(const PathChallengeData& data, Instant now);
  void on_path_timers(Instant now);
  void fail_path(Path& path, Instant now);
  void switch_active(Path& to, PathChangeReason reason, Instant now);
  void abandon_path(Path& path);
  Path* last_validated_path(const Path* except);
  Status give_path_new_cid(Path& path);
  void maybe_follow_preferred_address(Instant now);
  void maybe_fail_over(Instant now);
  Duration validation_timeout(const Path& path) const;
  void qlog_tuple(Instant now, const Path& path, bool abandoned);
  void qlog_migration(Instant now, std::string_view state, const Path& path);
  void qlog_mtu(Instant now, const Path& path);

  Level level_of(wire::PacketType t) const;
  static recovery::Space space_of(Level l) { return static_cast<recovery::Space>(l); }

  ConnectionConfig config_;
  Side side_;
  Random& random_;
  State state_ = State::kOpen;

  std::shared_ptr<tls::TlsContext> tls_ctx_;
  std::unique_ptr<tls::TlsSession> tls_;
  tls::CipherSuite suite_{};
  std::array<Space, kLevels> spaces_;
  // 1-RTT keys with key update (RFC 9001 6); created once both application secrets are known.
  std::optional<crypto::OneRttKeys> app_keys_;
  // 0-RTT keys (RFC 9001 4.6): the client writes with them until it has 1-RTT keys; the server
  // reads with them until the handshake is confirmed.
  std::optional<crypto::PacketKeys> zero_rtt_write_, zero_rtt_read_;
  bool sending_0rtt() const { return side_ == Side::kClient && zero_rtt_write_.has_value() && !app_keys_; }
  bool attempted_0rtt_ = false;
  bool remembered_params_ = false;  // client: stream limits from a previous connection
  std::vector<std::uint8_t> peer_tp_encoded_;  // for ResumptionState
  std::vector<std::uint8_t> new_token_;        // the latest NEW_TOKEN (client)
  bool new_token_pending_ = false;             // server: a NEW_TOKEN to (re)send
  std::vector<std::uint8_t> pending_app_read_, pending_app_write_;
  std::optional<Instant> prev_read_keys_discard_at_;
  // Data is waiting for the pacer until then: poll_transmit sets it, next_timeout reports it.
  std::optional<Instant> pacing_wakeup_;

  std::vector<std::unique_ptr<Path>> paths_;
  Path* active_ = nullptr;
  std::deque<PathChanged> recent_path_changes_;  // the last 16, numbered up to stats_.migrations
  std::optional<PathId> fallback_;  // the validated path to go back to while active_ is validating
  Path* rx_path_ = nullptr;         // path of the datagram being processed (nullptr: unknown yet)
  SocketAddress rx_local_, rx_peer_;
  std::size_t rx_size_ = 0;
  std::uint8_t rx_ecn_ = 0;
  std::uint8_t tx_ecn_ = 0;  // codepoint of the datagrams being built
  PathId next_path_id_{0};
  PathLookup path_lookup_{*this};
  std::unique_ptr<recovery::LossDetector> loss_;
  SentFrameLog sent_;
  std::unique_ptr<streams::StreamManager> streams_;

  ConnectionId original_dcid_;              // client's first DCID
  std::optional<ConnectionId> retry_scid_;
  ConnectionId initial_scid_;               // our SCID in the handshake
  ConnectionId peer_cid_;                   // DCID of our long-header packets (the handshake's)
  cid::PeerCidPool peer_cids_;
  std::unique_ptr<cid::LocalCidPool> local_cids_;
  std::deque<std::uint64_t> ncid_pending_;  // NEW_CONNECTION_ID sequence numbers to (re)send
  ConnectionId packet_dcid_;                // DCID of the packet whose frames are being processed
  std::vector<ConnectionId> cids_added_, cids_retired_;
  std::vector<std::uint8_t> token_;         // Initial token (client, after Retry/NEW_TOKEN)

  std::optional<wire::TransportParameters> peer_params_;
  Duration peer_max_ack_delay_ = std::chrono::milliseconds(25);
  std::uint64_t peer_ack_delay_exponent_ = 3;
  Duration idle_timeout_{};
  Instant idle_deadline_{};
  Instant last_activity_{};
  std::optional<Instant> close_deadline_;   // closing/draining ends
  std::optional<PendingClose> close_;
  bool close_pending_send_ = false;
  bool handshake_complete_ = false;
  bool handshake_confirmed_ = false;
  bool handshake_done_pending_ = false;     // server: HANDSHAKE_DONE to (re)send
  bool received_handshake_packet_ = false;
  bool ping_pending_ = false;
  bool retry_received_ = false;
  std::deque<std::basic_string<std::uint8_t>> datagrams_out_;
  std::deque<Event> events_;
  ConnectionStats stats_;
  std::unique_ptr<qlog::Writer> qlog_;
  Instant now_hint_{};  // time of the latest call into the connection, for events raised deep inside
};

}  // namespace roam::conn
