// roam-client's side of one connection: its exchanges (one per URL) run as concurrent
// bidirectional streams, directly (hq-interop, perf, echo) or as HTTP/3 requests through an
// h3::Session; failures are collected as one line each.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "conn/connection.h"
#include "endpoint/endpoint.h"
#include "exchange.h"
#include "h3/session.h"

namespace roam::apps {

class ClientConnection {
 public:
  // name: the server as the user wrote it (host:port), for messages.
  // http3: run the exchanges as HTTP/3 requests (ALPN h3).
  ClientConnection(std::string name, endpoint::ConnectionHandle handle,
                   std::vector<std::unique_ptr<Exchange>> exchanges, bool http3 = false);
  ClientConnection(ClientConnection&&) noexcept;
  ClientConnection& operator=(ClientConnection&&) noexcept;
  ~ClientConnection();

  endpoint::ConnectionHandle handle() const { return handle_; }
  const std::string& name() const { return name_; }

  // Reacts to the connection's events, opens streams (as the peer's stream limit allows), sends
  // requests and hands responses to their exchanges. Call after every I/O round; `c` is null when
  // the endpoint no longer has the connection.
  void pump(conn::Connection* c, Instant now);
  // Gives up on every exchange not finished yet, with one message for the whole connection.
  void fail(const std::string& message);
  // The application error code to close the connection with (H3_NO_ERROR for HTTP/3).
  std::uint64_t close_code() const { return http3_ ? h3::kNoError : 0; }

  bool finished() const { return finished_count_ == slots_.size(); }
  bool handshake_complete() const { return handshake_complete_; }
  std::size_t count() const { return slots_.size(); }
  std::size_t finished_count() const { return finished_count_; }
  std::uint64_t bytes_received() const { return bytes_received_; }
  // Total expected response bytes, when every exchange knows its own.
  std::optional<std::uint64_t> expected_bytes() const;
  // When the first stream opened and the last exchange ended.
  std::optional<Instant> transfer_start() const { return transfer_start_; }
  std::optional<Instant> transfer_end() const { return transfer_end_; }
  // The connection's statistics as last seen.
  const conn::ConnectionStats& stats() const { return stats_; }

  // One line each, without the "error: " prefix.
  const std::vector<std::string>& errors() const { return errors_; }
  // From exchanges that succeeded.
  std::vector<std::string> result_lines() const;
  std::vector<std::string> warnings() const;

 private:
  enum class State : std::uint8_t { kWaiting, kActive, kSucceeded, kFailed };
  struct Slot {
    std::unique_ptr<Exchange> exchange;
    std::vector<std::uint8_t> request;
    std::size_t request_sent = 0;
    bool fin_sent = false;
    StreamId id{0};
    State state = State::kWaiting;
  };
  void on_closed(const conn::ConnectionClosed& closed);
  void drive(conn::Connection& c, Slot& s, Instant now);
  // HTTP/3: submits waiting requests and reacts to the session's events.
  void pump_http3(conn::Connection& c, Instant now);
  void on_http3_event(const h3::Event& e, Instant now);
  void read_http3_body(Slot& s, Instant now);
  void end(Slot& s, State state, Instant now);
  void fail_slot(conn::Connection* c, Slot& s, const std::string& why, Instant now);

  std::string name_;
  endpoint::ConnectionHandle handle_;
  bool http3_ = false;
  std::unique_ptr<h3::Session> session_;
  std::unordered_map<std::uint64_t, std::size_t> slot_of_stream_;  // HTTP/3: stream ID -> slot
  std::vector<Slot> slots_;
  std::size_t next_to_open_ = 0;
  std::size_t finished_count_ = 0;
  bool handshake_complete_ = false;
  std::uint64_t bytes_received_ = 0;
  std::optional<Instant> transfer_start_, transfer_end_;
  conn::ConnectionStats stats_;
  std::vector<std::string> errors_;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(256 * 1024);
};

}  // namespace roam::apps
