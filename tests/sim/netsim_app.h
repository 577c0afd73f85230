// A small application protocol for scenarios, checked end to end.
//
// Every stream starts with a 17-byte request from the client: op (1 byte), length N (8 bytes,
// big-endian) and a pattern seed (8 bytes). The payload bytes are a deterministic pattern of
// (seed, offset) that never repeats with a short period, so a shifted, dropped or duplicated byte
// shows.
//   'D' download: the server sends N pattern bytes and FIN.
//   'U' upload:   the client sends N pattern bytes and FIN; the server answers with the count and
//                 FNV-1a of what it received (16 bytes) and FIN.
//   'E' echo:     the client sends N pattern bytes and FIN; the server writes back what it reads.
// The receiving side checks every byte against the pattern and keeps an FNV-1a checksum, which the
// test compares with one computed independently from the pattern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/types.h"
#include "conn/connection.h"
#include "endpoint/endpoint.h"

namespace roam::sim {

std::uint8_t pattern_byte(std::uint64_t seed, std::uint64_t offset);
void pattern_fill(std::uint64_t seed, std::uint64_t offset, MutBytes out);

class Fnv1a {
 public:
  void update(Bytes b) {
    for (auto x : b) h_ = (h_ ^ x) * 1099511628211ull;
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 1469598103934665603ull;
};

// FNV-1a of the first n pattern bytes.
std::uint64_t pattern_checksum(std::uint64_t seed, std::uint64_t n);

enum class Op : std::uint8_t { kDownload = 'D', kUpload = 'U', kEcho = 'E' };
constexpr std::size_t kRequestSize = 17;

// Sends the pattern from a moving offset without recomputing it on every attempt.
class PatternSource {
 public:
  PatternSource(std::uint64_t seed, std::uint64_t total) : seed_(seed), total_(total) {}
  // Writes as much as the stream takes; fin with the last byte. Returns false on a stream error.
  bool pump(conn::Connection& c, StreamId id);
  std::uint64_t sent() const { return offset_; }
  bool done() const { return fin_sent_; }
  // Writes that took less than offered (send buffer or flow-control credit exhausted).
  std::uint64_t short_writes() const { return short_writes_; }

 private:
  std::uint64_t seed_;
  std::uint64_t total_;
  std::uint64_t short_writes_ = 0;
  std::uint64_t offset_ = 0;     // bytes the stream accepted
  std::vector<std::uint8_t> chunk_;
  std::uint64_t chunk_offset_ = 0;
  bool fin_sent_ = false;
};

// Checks received bytes against the pattern.
class PatternSink {
 public:
  explicit PatternSink(std::uint64_t seed) : seed_(seed) {}
  void consume(Bytes b);
  std::uint64_t received() const { return offset_; }
  std::uint64_t mismatches() const { return mismatches_; }
  std::uint64_t checksum() const { return fnv_.value(); }

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
  std::uint64_t mismatches_ = 0;
  Fnv1a fnv_;
};

// Path events as the application saw them (PathValidated, PathFailed, PathChanged), in order.
struct PathEventRecord {
  Instant time{};
  conn::Event event;
};
bool is_path_event(const conn::Event& e);
// Called for every event an application polls, before the application handles it: scenarios
// react to path events here (migrate after PathValidated, snapshot stats at PathChanged...).
using EventHook = std::function<void(conn::Connection&, const conn::Event&, Instant)>;

struct ServerAppStats {
  std::uint64_t requests = 0;
  std::uint64_t bad_requests = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t upload_mismatches = 0;
};

// The server side for one connection.
class ServerApp {
 public:
  void pump(conn::Connection& c, Instant now = Instant{}, const EventHook* hook = nullptr);
  const ServerAppStats& stats() const { return stats_; }
  const std::vector<PathEventRecord>& path_events() const { return path_events_; }
  void set_path_event_log(bool on) { log_path_events_ = on; }
  bool closed() const { return closed_.has_value(); }
  const std::optional<conn::ConnectionClosed>& close_event() const { return closed_; }

 private:
  struct StreamState {
    std::vector<std::uint8_t> request;
    bool request_done = false;  // header parsed
    Op op = Op::kDownload;
    std::uint64_t length = 0;
    std::uint64_t seed = 0;
    bool peer_fin = false;
    std::optional<PatternSource> source;   // download
    std::optional<PatternSink> sink;       // upload
    std::vector<std::uint8_t> echo_pending;
    std::vector<std::uint8_t> reply;       // upload answer still to write
    bool fin_sent = false;
  };
  // Returns true when the stream is finished on our side.
  bool serve(conn::Connection& c, StreamId id, StreamState& s);

  std::unordered_map<std::uint64_t, StreamState> streams_;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
  ServerAppStats stats_;
  std::optional<conn::ConnectionClosed> closed_;
  std::vector<PathEventRecord> path_events_;
  bool log_path_events_ = true;
};

// Server applications for every connection an endpoint accepts.
class ServerApps {
 public:
  void pump(endpoint::Endpoint& ep, Instant now = Instant{});
  void set_event_hook(EventHook hook) { hook_ = std::move(hook); }
  // Path event logs of the applications created from now on (on by default).
  void set_path_event_log(bool on) { log_path_events_ = on; }
  // Drops every application (a server restart).
  void forget_connections() { apps_.clear(); }
  ServerApp* app(endpoint::ConnectionHandle h);
  std::size_t size() const { return apps_.size(); }
  ServerAppStats total() const;
  // Connections whose application saw ConnectionClosed.
  std::size_t closed_count() const;
  const std::optional<conn::ConnectionClosed>* first_close() const;

 private:
  std::unordered_map<endpoint::ConnectionHandle, ServerApp> apps_;
  EventHook hook_;
  bool log_path_events_ = true;
};

struct Transfer {
  Op op = Op::kDownload;
  std::uint64_t length = 0;
  std::uint64_t seed = 0;
  std::uint64_t expected_checksum = 0;
  std::optional<StreamId> stream;
  Instant queued_at{};
  Instant opened_at{};
  Instant finished_at{};
  bool done = false;
  // What came back: the pattern bytes (download, echo) or the server's report (upload).
  std::uint64_t received = 0;
  std::uint64_t checksum = 0;
  std::uint64_t mismatches = 0;
  std::uint64_t sent = 0;
  // True when done and every byte arrived intact.
  bool ok() const { return done && received == length && mismatches == 0 && checksum == expected_checksum; }
};

// The client side: transfers queued with add() run on streams opened as the stream limit allows.
class ClientApp {
 public:
  std::size_t add(Op op, std::uint64_t length, std::uint64_t seed, Instant now);
  void pump(conn::Connection& c, Instant now);
  const std::vector<Transfer>& transfers() const { return transfers_; }
  std::size_t completed() const { return completed_; }
  bool all_done() const { return completed_ == transfers_.size(); }
  bool all_ok() const;
  // A STREAM_LIMIT_ERROR from open_stream was seen (the peer's MAX_STREAMS was used up).
  std::uint64_t stream_limit_hits() const { return stream_limit_hits_; }
  // Writes that took less than offered, over all streams.
  std::uint64_t short_writes() const { return short_writes_; }
  std::uint64_t writable_events() const { return writable_events_; }
  bool handshake_completed() const { return handshake_completed_; }
  const std::optional<conn::ConnectionClosed>& close_event() const { return closed_; }

  void set_event_hook(EventHook hook) { hook_ = std::move(hook); }
  const std::vector<PathEventRecord>& path_events() const { return path_events_; }
  void set_path_event_log(bool on) { log_path_events_ = on; }
  // Bytes handed to the application on download and echo streams, over all transfers.
  std::uint64_t bytes_delivered() const { return bytes_delivered_; }
  // With tracking on, one entry per pump that delivered bytes: when, and bytes_delivered() then
  // (how the handover stall is measured).
  struct Progress {
    Instant time{};
    std::uint64_t bytes = 0;
  };
  void track_progress(bool on) { track_progress_ = on; }
  const std::vector<Progress>& progress() const { return progress_; }

 private:
  struct Active {
    std::size_t index;
    std::vector<std::uint8_t> header;
    std::size_t header_sent = 0;
    std::optional<PatternSource> source;  // upload, echo
    std::optional<PatternSink> sink;      // download, echo
    std::vector<std::uint8_t> reply;      // upload report
  };
  bool serve(conn::Connection& c, Active& a, Instant now);

  std::vector<Transfer> transfers_;
  std::deque<std::size_t> pending_;
  std::unordered_map<std::uint64_t, Active> active_;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
  std::size_t completed_ = 0;
  std::uint64_t stream_limit_hits_ = 0;
  std::uint64_t short_writes_ = 0;
  std::uint64_t writable_events_ = 0;
  bool handshake_completed_ = false;
  std::optional<conn::ConnectionClosed> closed_;
  EventHook hook_;
  std::vector<PathEventRecord> path_events_;
  bool log_path_events_ = true;
  std::uint64_t bytes_delivered_ = 0;
  bool track_progress_ = false;
  std::vector<Progress> progress_;
};

}  // namespace roam::sim
