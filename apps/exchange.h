// Client side: one request and its response on a client-opened bidirectional stream. The
// protocols (hq.h, perf.h) say what to send and what to do with the answer; ClientConnection
// (client_connection.h) moves the bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"

namespace roam::apps {

class Exchange {
 public:
  virtual ~Exchange() = default;
  // Names the exchange in messages (the URL).
  virtual std::string label() const = 0;
  // The whole request; the stream's FIN follows it.
  virtual std::vector<std::uint8_t> request() const = 0;
  // Response bytes, in order. A returned message fails the exchange (the stream is abandoned).
  virtual std::optional<std::string> on_data(Bytes data) = 0;
  // The response ended with FIN. A returned message fails the exchange.
  virtual std::optional<std::string> on_fin() = 0;
  // The exchange failed (stream reset, connection lost, or an error above): drop partial output.
  virtual void on_failure() {}
  // Bytes the response should have, when known (drives the progress bar).
  virtual std::optional<std::uint64_t> expected_bytes() const { return std::nullopt; }
  // After success: a line for stdout ("echo: ..."), or empty.
  virtual std::string result_line() const { return {}; }
  // After success: a warning for stderr, or empty.
  virtual std::string warning() const { return {}; }
  // Message for a RESET_STREAM from the server.
  virtual std::string reset_message(std::uint64_t code) const {
    return "the server reset the stream (code " + std::to_string(code) + ")";
  }
};

}  // namespace roam::apps
