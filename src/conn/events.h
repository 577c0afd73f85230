// What a connection tells its application. Events are pulled (Connection::poll_event), never called
// back, so the application decides when to react.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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

// Why the active path changed.
enum class PathChangeReason : std::uint8_t {
  kMigration,         // the application migrated (client) or the peer did, with a new CID
  kNatRebinding,      // the peer's address changed under the same CID (a NAT rebinding)
  kPreferredAddress,  // to the server's preferred address (RFC 9000 9.6)
  kFailover,          // the active path stopped working; moved to another validated one
  kFallback,          // the new path failed validation; back to the last validated one
};
std::string_view to_string(PathChangeReason r);

// Path validation succeeded (RFC 9000 8.2.3): a PATH_RESPONSE echoed our challenge.
struct PathValidated {
  PathId path;
  SocketAddress local;
  SocketAddress peer;
};
// Path validation failed (no response before the timeout) or the path was abandoned for lack of
// a CID; the path is gone.
struct PathFailed {
  PathId path;
  SocketAddress local;
  SocketAddress peer;
};
// The active path changed: packets now go from new_local to new_peer.
struct PathChanged {
  PathId path;
  SocketAddress old_local;
  SocketAddress old_peer;
  SocketAddress new_local;
  SocketAddress new_peer;
  PathChangeReason reason = PathChangeReason::kMigration;
};

using Event = std::variant<HandshakeCompleted, HandshakeConfirmed, StreamOpened, StreamReadable, StreamWritable,
                           StreamReset, StreamStopSending, DatagramReceived, NewTokenReceived, ConnectionClosed,
                           PathValidated, PathFailed, PathChanged>;

}  // namespace roam::conn
