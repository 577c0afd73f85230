// The `perf` and `echo` application protocols.
// perf: the client opens a bidirectional stream and sends an 8-byte big-endian length N (and FIN);
//       the server answers with N bytes of a fixed pattern (perf_fill) and FIN, so the client can
//       check every byte it receives.
// echo: the server writes back everything a stream sends, then FIN.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "conn/connection.h"

namespace roam::apps {

// The byte at `offset` of a perf response: cheap to compute, and a shifted or dropped byte shows.
inline std::uint8_t perf_byte(std::uint64_t offset) {
  return static_cast<std::uint8_t>((offset * 131) ^ (offset >> 9) ^ (offset >> 17));
}
void perf_fill(std::uint64_t offset, MutBytes out);
// Number of bytes in buf that differ from the pattern at offset (0 when all match).
std::size_t perf_mismatches(std::uint64_t offset, Bytes buf);

// Server side of perf and echo for one connection.
class ServerApp {
 public:
  explicit ServerApp(std::string alpn) : alpn_(std::move(alpn)) {}
  // Reacts to the connection's events and keeps responses flowing; call after every I/O round.
  void pump(conn::Connection& c);
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t requests() const { return requests_; }

 private:
  struct StreamState {
    std::vector<std::uint8_t> request;  // perf: the 8-byte length as it arrives
    std::uint64_t to_send = 0;          // perf: bytes still to send
    std::uint64_t offset = 0;           // perf: next pattern offset
    bool request_done = false;
    bool fin_sent = false;
    std::vector<std::uint8_t> echo_pending;
  };
  void serve(conn::Connection& c, StreamId id, StreamState& s);
  std::string alpn_;
  std::unordered_map<std::uint64_t, StreamState> streams_;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t requests_ = 0;
};

}  // namespace roam::apps
