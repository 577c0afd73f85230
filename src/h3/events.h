// What an HTTP/3 session tells its application; pulled with Session::poll_event(), like the
// connection's own events.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/types.h"
#include "h3/message.h"

namespace roam::h3 {

// Server: a request's header section arrived; answer with Session::submit_response().
struct RequestReceived {
  StreamId id;
  Request request;
};
// Client: the final (non-1xx) response's header section arrived.
struct ResponseReceived {
  StreamId id;
  Response response;
};
// Body bytes, or the end of the message, can be read with Session::read_body() (read until it
// returns 0 bytes; fin marks the end).
struct BodyReadable {
  StreamId id;
};
// The peer abandoned the message on this stream (RESET_STREAM, or a request the server will not
// process because of its GOAWAY). Nothing more arrives on it.
struct StreamAborted {
  StreamId id;
  std::uint64_t code = 0;  // an H3 error code (message.h)
};
// The peer is shutting down (GOAWAY): a client learns that requests on streams >= id are not
// processed (they are aborted with H3_REQUEST_REJECTED); no new requests can be submitted.
struct GoawayReceived {
  std::uint64_t id = 0;
};
// An HTTP/3 connection error (RFC 9114 8): the session closed the connection with `code`.
struct SessionFailed {
  std::uint64_t code = 0;
  std::string reason;
};

using Event = std::variant<RequestReceived, ResponseReceived, BodyReadable, StreamAborted, GoawayReceived, SessionFailed>;

}  // namespace roam::h3
