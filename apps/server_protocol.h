// What roam-server runs on each connection, chosen by the negotiated ALPN: h3 (HTTP/3 file
// serving, h3_server.h), hq-interop (HTTP/0.9, hq.h), perf and echo (perf.h). One instance per
// connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "conn/connection.h"
#include "site.h"

namespace roam::apps {

// One served request, for --log-requests.
struct RequestLogEntry {
  std::string_view alpn;
  std::string_view method;  // "GET" for hq-interop
  std::string_view target;
  int status = 0;           // HTTP status (hq-interop: 200, or 400/404 for a refusal)
  std::uint64_t bytes = 0;  // body bytes announced (content-length; hq-interop: the file size)
};
using RequestLogger = std::function<void(const conn::Connection&, const RequestLogEntry&)>;

struct ServerSettings {
  std::shared_ptr<const Site> site;  // h3 and hq-interop: what is served
  RequestLogger log;                 // called once per request when set
};

class ServerProtocol {
 public:
  virtual ~ServerProtocol() = default;
  // Reacts to the connection's events and keeps every response flowing; call after each I/O
  // round. The protocol polls the connection's events itself.
  virtual void pump(conn::Connection& c) = 0;
  // The code roam-server closes the connection with (h3: H3_NO_ERROR).
  virtual std::uint64_t close_code() const { return 0; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t requests() const { return requests_; }
  std::uint64_t refused() const { return refused_; }

 protected:
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t refused_ = 0;
};

// The protocols that run directly on QUIC streams (hq-interop, perf, echo): one request per
// client-opened bidirectional stream, served by serve().
class StreamProtocol : public ServerProtocol {
 public:
  void pump(conn::Connection& c) override;

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

// The application protocols roam-server can speak, in the order it prefers them.
const std::vector<std::string>& server_alpns();
bool is_server_alpn(std::string_view alpn);
// nullptr for an ALPN it does not speak (or h3 / hq-interop without a site).
std::unique_ptr<ServerProtocol> make_server_protocol(std::string_view alpn, const ServerSettings& settings);

}  // namespace roam::apps
