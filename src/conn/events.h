// What a connection tells its application. Events are pulled (Connection::poll_event), never called
// back, so the application decides when to react.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/socket_address.h"
#include "common/types.h"

namespace roam::conn {

struct HandshakeCompleted {
  std::string alpn;
};
// Handshake confirmed (RFC 9001 4.1.2): the client received HANDSHAKE_DONE, the server completed.
struct HandshakeConfirmed {};
struct StreamOpened {  // the peer opened a stream
  StreamId id;
};
struct StreamReadable {
  StreamId id;
};
struct StreamWritable {  // flow-control credit or stream credit became available again
  StreamId id;
};
struct StreamReset {  // the peer reset its sending part (RESET_STREAM)
  StreamId id;
  std::uint64_t app_error;
};
struct StreamStopSending {  // the peer asked us to stop sending (STOP_SENDING)
  StreamId id;
  std::uint64_t app_error;
};
struct DatagramReceived {
  std::basic_string<std::uint8_t> data;
};
struct NewTokenReceived {  // a server's NEW_TOKEN for a future connection (client only)
  std::basic_string<std::uint8_t> token;
};
struct ConnectionClosed {
  std::uint64_t error_code = 0;
  bool application = false;  // an application close (CONNECTION_CLOSE 0x1d)
  bool by_peer = false;      // the peer closed; otherwise we did (or the idle timer)
  bool idle_timeout = false;
  bool stateless_reset = false;
  std::string reason;
};

using Event = std::variant<HandshakeCompleted, HandshakeConfirmed, StreamOpened, StreamReadable, StreamWritable,
                           StreamReset, StreamStopSending, DatagramReceived, NewTokenReceived, ConnectionClosed>;

}  // namespace roam::conn
