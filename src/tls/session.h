// One endpoint's side of the TLS 1.3 handshake for one QUIC connection, through GnuTLS's QUIC
// interface. Sans-IO: handshake bytes come in and go out per encryption level (the contents of
// CRYPTO frames), and traffic secrets come out as events for the packet protection layer.
//
//   auto s = TlsSession::create(ctx, local_params, "example.com").value();
//   s->start();                          // client: queues the ClientHello
//   loop:
//     while (s->take_output(level, bytes)) send bytes in CRYPTO frames at `level`
//     while (auto ev = s->poll_secret())   install keys for ev->level / ev->direction
//     s->provide_data(level, in_order_crypto_bytes)   // returns the CONNECTION_CLOSE error
//
// Errors follow RFC 9001 section 4.8: a TLS alert becomes CRYPTO_ERROR 0x100 + alert.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/types.h"
#include "tls/cipher_suite.h"
#include "tls/context.h"
#include "tls/handshake_framer.h"
#include "tls/level.h"

struct gnutls_session_int;

namespace roam::tls {

// A traffic secret TLS installed, with the suite to derive QUIC keys from it (RFC 9001 5.1).
struct SecretEvent {
  Level level = Level::kInitial;
  Direction direction = Direction::kRead;
  std::vector<std::uint8_t> secret;
  CipherSuite cipher_suite;
};

class TlsSession {
 public:
  // local_transport_params: the encoded QUIC transport parameters carried in the
  // quic_transport_parameters extension (must not be empty). server_name (clients only): sent
  // as SNI unless it is an IP address, and verified against the server certificate's DNS or IP
  // names; required unless the context skips verification.
  static Result<std::unique_ptr<TlsSession>> create(std::shared_ptr<TlsContext> context,
                                                    Bytes local_transport_params,
                                                    std::string_view server_name = {});
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;
  ~TlsSession();

  bool is_server() const { return server_; }

  // Client: produces the ClientHello (take it with take_output). Server: nothing to do yet.
  // Calling it again has no effect.
  Status start();

  // In-order handshake bytes received in CRYPTO frames at `level`. Drives the handshake, then
  // outputs and secrets can be pulled. Data must come at read_level(): data at an earlier level
  // (beyond what it already held) or in 0-RTT is a PROTOCOL_VIOLATION, as is data left
  // unprocessed at a level when TLS moves to the next. Any failure is sticky: later calls
  // return the same error.
  Status provide_data(Level level, Bytes data);

  // The next chunk of handshake bytes to send in CRYPTO frames at `level`, in order.
  bool take_output(Level& level, std::vector<std::uint8_t>& data);

  // The next secret, in the order TLS installed them (for one level: read before write).
  std::optional<SecretEvent> poll_secret();

  // TLS has sent its Finished and verified the peer's (RFC 9001 4.1.1).
  bool handshake_complete() const { return complete_; }
  // The level at which CRYPTO data is expected now.
  Level read_level() const { return read_level_; }
  // The error the session failed with, if any.
  const std::optional<Error>& error() const { return failure_; }

  // The negotiated application protocol ("" until the peer's choice is known).
  std::string alpn() const;
  // The peer's encoded transport parameters, once its ClientHello / EncryptedExtensions is in.
  // Authenticated only once the handshake completes (RFC 9001 8.2).
  const std::optional<std::vector<std::uint8_t>>& peer_transport_params() const { return peer_tp_; }
  // The negotiated cipher suite, once the ServerHello is processed.
  std::optional<CipherSuite> cipher_suite() const;
  // One line describing the peer's certificate (subject, issuer, validity), "" if none.
  std::string peer_certificate_info() const;
  // Server: the name the client asked for in SNI ("" if none).
  std::string requested_server_name() const;

  // Resumption and 0-RTT (RFC 8446 4.6.1, RFC 9001 4.6).
  // Client, before start(): resume the session saved by resumption_data(); if its ticket allows
  // early data, a 0-RTT write secret follows the ClientHello. Invalid data is refused.
  Status set_resumption_data(Bytes data);
  // Client: the session to resume later, once the server sent a NewSessionTicket; nullopt before.
  std::optional<std::vector<std::uint8_t>> resumption_data() const;
  // Once the handshake completes: whether the session was resumed, and whether the server
  // accepted the client's 0-RTT data (a client whose 0-RTT was refused resends it in 1-RTT).
  bool resumed() const;
  bool early_data_accepted() const;

 private:
  struct Callbacks;
  struct Output {
    Level level;
    std::vector<std::uint8_t> bytes;
  };

  TlsSession(std::shared_ptr<TlsContext> context, Bytes local_transport_params,
             std::string_view server_name);
  Status drive();
  Status fail(Error error);
  Error error_from_gnutls(int code) const;
  int check_peer_extensions();

  std::shared_ptr<TlsContext> ctx_;
  gnutls_session_int* session_ = nullptr;
  bool server_;
  std::string server_name_;
  std::vector<std::uint8_t> local_tp_;
  std::optional<std::vector<std::uint8_t>> peer_tp_;

  std::deque<Output> output_;
  std::deque<SecretEvent> secrets_;
  std::array<HandshakeFramer, kLevelCount> framers_;
  std::array<std::uint64_t, kLevelCount> processed_{};  // messages GnuTLS took, per level
  Level read_level_ = Level::kInitial;

  bool started_ = false;
  bool complete_ = false;
  bool peer_checked_ = false;
  std::optional<Error> local_error_;      // set by our own checks inside GnuTLS callbacks
  std::optional<std::uint8_t> sent_alert_;  // the alert GnuTLS asked to send, if any
  std::optional<Error> failure_;
};

}  // namespace roam::tls
