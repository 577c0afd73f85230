// Client side: one request and its response on a client-opened bidirectional stream. The
// protocols (hq.h, perf.h, h3_client.h) say what to send and what to do with the answer;
// ClientConnection (client_connection.h) moves the bytes, directly on the stream or through an
// HTTP/3 session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"
#include "h3/message.h"

namespace roam::apps {

class Exchange {
 public:
  virtual ~Exchange() = default;
  // Names the exchange in messages (the URL).
  virtual std::string label() const = 0;
  // The whole request; the stream's FIN follows it. (Raw-stream protocols: hq-interop, perf, echo.)
  virtual std::vector<std::uint8_t> request() const { return {}; }
  // HTTP/3: the request to submit (the body, if any, is request()).
  virtual std::optional<h3::Request> http_request() const { return std::nullopt; }
  // HTTP/3: the final response's header section. A returned message fails the exchange.
  virtual std::optional<std::string> on_response(const h3::Response&) { return std::nullopt; }
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
