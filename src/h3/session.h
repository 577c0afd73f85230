// HTTP/3 (RFC 9114) and QPACK (RFC 9204) over a roam connection, through nghttp3.
//
// A Session wraps an nghttp3_conn around a conn::Connection whose handshake completed with ALPN
// "h3". It is sans-IO like the connection: the application hands it every event it polls from the
// connection (on_connection_event) and calls pump() after each I/O round; pump() reads the
// streams that have data into nghttp3 and writes nghttp3's output (control stream, QPACK streams,
// HEADERS and DATA frames) to the connection. The session's own events (requests, responses,
// body data, aborted streams) are pulled with poll_event().
//
// One class serves both sides: a client submits requests and reads responses, a server reads
// requests and submits responses. Flow control stays the connection's: a stream is read from the
// connection only while less than SessionConfig::max_buffered_per_stream of it waits for the
// application, so a slow reader slows the peer down through QUIC flow control.
//
// Acknowledgements: nghttp3 keeps sent stream data until it is told the peer acknowledged it. The
// connection copies everything write() accepts into its own send buffer and retransmits from
// there, so the session reports data as acknowledged as soon as the connection has taken it; body
// buffers are released at that moment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "common/types.h"
#include "conn/connection.h"
#include "h3/body.h"
#include "h3/events.h"
#include "h3/message.h"
#include "h3/stream_set.h"

struct nghttp3_conn;

namespace roam::h3 {

struct SessionConfig {
  // Bytes of one stream held for the application (body not read yet, plus frames nghttp3 holds
  // undecoded) before the session stops reading that stream from the connection.
  std::size_t max_buffered_per_stream = 1 << 20;
  // SETTINGS_MAX_FIELD_SECTION_SIZE we announce.
  std::uint64_t max_field_section_size = 64 * 1024;
  // QPACK dynamic table the peer's encoder may use, and how many streams may wait for it.
  std::size_t qpack_max_dtable_capacity = 4096;
  std::size_t qpack_blocked_streams = 100;
};

struct BodyRead {
  std::size_t bytes = 0;
  bool fin = false;  // the message ended (after these bytes)
};

class Session {
 public:
  // Starts HTTP/3 on `conn` (handshake complete): opens the control and QPACK encoder/decoder
  // streams. Create it before polling stream events from the connection, so that none of the
  // peer's streams goes unseen. The session keeps a reference: `conn` must outlive it.
  static Result<std::unique_ptr<Session>> start(conn::Connection& conn, const SessionConfig& config = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Every event polled from the connection; the session takes those about streams and ignores
  // the others (the application still sees them all).
  void on_connection_event(const conn::Event& event);
  // Reads what arrived into nghttp3 and writes nghttp3's output to the connection. Call after the
  // connection's events were handed over, and again after reacting to the session's events.
  void pump();
  std::optional<Event> poll_event();

  // Client: sends a request on a new bidirectional stream. Fails while the server's stream limit
  // is used up (try again after the next I/O round), after GOAWAY, or on a server.
  Result<StreamId> submit_request(const Request& request, std::unique_ptr<BodySource> body = nullptr);
  // Server: answers the request on `id`. Without a body the stream ends after the header section
  // (HEAD, 304, errors without a body).
  Status submit_response(StreamId id, const Response& response, std::unique_ptr<BodySource> body = nullptr);
  // Reads the body of the message received on `id`.
  Result<BodyRead> read_body(StreamId id, MutBytes out);
  // A BodySource that had nothing to give has data again.
  void resume_body(StreamId id);
  // Abandons the exchange on `id` in both directions (RESET_STREAM and STOP_SENDING with `code`).
  Status cancel(StreamId id, std::uint64_t code = kRequestCancelled);
  // Graceful shutdown: sends GOAWAY. A server then refuses requests on newer streams and serves
  // those it has; close the connection (code kNoError) once active_streams() reaches 0.
  Status shutdown();

  // Request streams not finished yet (in either direction, or with body unread by a client).
  std::size_t active_streams() const { return streams_.size(); }
  bool failed() const { return failed_; }
  bool is_server() const { return server_; }
  // The peer's GOAWAY ID, once one arrived.
  std::optional<std::uint64_t> goaway_id() const { return goaway_id_; }

 private:
  struct Stream;
  struct Callbacks;
  struct Nghttp3Deleter {
    void operator()(nghttp3_conn* c) const;
  };

  Session(conn::Connection& conn, const SessionConfig& config);
  Status init();

  Stream* find(std::uint64_t id);
  bool is_peer_initiated(std::uint64_t id) const;
  bool adopt_peer_stream(std::uint64_t id);
  void read_stream(std::uint64_t id);
  void write_streams();
  // The peer reset its side of `id` (RESET_STREAM), seen as an event or by read().
  void on_peer_reset(std::uint64_t id, std::uint64_t code);
  void on_peer_stop_sending(std::uint64_t id, std::uint64_t code);
  // Closes the nghttp3 stream once both directions are done, forgets it once the application
  // is done with it too.
  void maybe_finish(std::uint64_t id);
  void finish_touched();
  // Stops both directions of a request stream (code in RESET_STREAM and STOP_SENDING).
  void abort_both(Stream& st, std::uint64_t code);
  // Cancellations decided inside nghttp3 callbacks, run once nghttp3 has returned.
  void run_pending_cancels();
  void forget(std::uint64_t id);
  void fail(std::uint64_t code, std::string reason);
  void fail_lib(int lib_error, const char* where);
  bool is_local_critical(std::uint64_t id) const;
  void push(Event e) { events_.push_back(std::move(e)); }

  conn::Connection& conn_;
  SessionConfig config_;
  bool server_;
  std::unique_ptr<nghttp3_conn, Nghttp3Deleter> h3_;
  std::uint64_t control_id_ = 0, qpack_enc_id_ = 0, qpack_dec_id_ = 0;
  std::unordered_map<std::uint64_t, std::unique_ptr<Stream>> streams_;  // request streams
  // The peer's unidirectional streams (control, QPACK, unknown types): read whenever readable.
  std::set<std::uint64_t> peer_uni_;
  StreamSet finished_;           // streams forgotten; late data on them is not a new stream
  std::set<std::uint64_t> readable_;  // streams to read on the next pump()
  // Streams whose state changed: maybe_finish() runs on them outside nghttp3 callbacks.
  std::set<std::uint64_t> touched_;
  struct PendingCancel {
    std::uint64_t id;
    std::uint64_t code;
  };
  std::deque<PendingCancel> pending_cancel_;
  std::deque<Event> events_;
  std::optional<std::uint64_t> goaway_id_;
  bool failed_ = false;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
};

}  // namespace roam::h3
