// What roam-server runs on each connection, chosen by the negotiated ALPN: hq-interop (HTTP/0.9
// file serving, hq.h), perf and echo (perf.h). One instance per connection.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_set>

#include "conn/connection.h"

namespace roam::apps {

struct ServerSettings {
  std::optional<std::filesystem::path> root;  // hq-interop: the directory served
};

class ServerProtocol {
 public:
  virtual ~ServerProtocol() = default;
  // Reacts to the connection's stream events and keeps every response flowing; call after each
  // I/O round.
  void pump(conn::Connection& c);
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t requests() const { return requests_; }
  std::uint64_t refused() const { return refused_; }

 protected:
  // Reads what arrived on the stream and writes what the connection takes; returns true once the
  // stream needs nothing more from us (its state is then dropped).
  virtual bool serve(conn::Connection& c, StreamId id) = 0;
  // The peer asked us to stop sending (we have reset the stream): drop its state.
  virtual void forget(StreamId id) = 0;
  // For serve(): drops the stream's state and reports it finished.
  bool done(StreamId id) {
    forget(id);
    return true;
  }

  std::uint64_t bytes_sent_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t refused_ = 0;

 private:
  // Streams we are done with, so that data arriving on them later (after a refusal, say) is not
  // taken for a new request. Per stream type (id & 3): every index below `below` is finished, plus
  // those in `above` (IDs are used in order, so `above` stays small).
  struct Finished {
    std::uint64_t below = 0;
    std::set<std::uint64_t> above;
  };
  bool is_finished(std::uint64_t id) const;
  void mark_finished(std::uint64_t id);

  std::unordered_set<std::uint64_t> active_;
  Finished finished_[4];
};

// The application protocols roam-server can speak.
bool is_server_alpn(std::string_view alpn);
// nullptr for an ALPN it does not speak (or hq-interop without a root).
std::unique_ptr<ServerProtocol> make_server_protocol(std::string_view alpn, const ServerSettings& settings);

}  // namespace roam::apps
