// One stream as the StreamManager holds it: the parts that exist for this stream ID on this side,
// scheduling hooks and the dedup bits for queued control frames and application events. Internal
// to the manager; other modules use StreamManager's API.
#pragma once

#include <cstdint>
#include <optional>

#include "common/types.h"
#include "streams/recv_stream.h"
#include "streams/send_stream.h"
#include "streams/stream_list.h"

namespace roam::streams {

// Per-stream control frames the manager may have queued (bits of Stream::queued).
enum StreamControl : std::uint8_t {
  kQueuedReset = 1,
  kQueuedStopSending = 2,
  kQueuedMaxStreamData = 4,
  kQueuedStreamDataBlocked = 8,
};

struct Stream {
  explicit Stream(StreamId stream_id) : id(stream_id) {}

  StreamId id;
  std::optional<SendStream> send;
  std::optional<RecvStream> recv;
  ListHook<Stream> retx_hook;  // in the retransmission round robin
  ListHook<Stream> send_hook;  // in the new-data round robin
  std::uint8_t queued = 0;     // StreamControl bits
  bool readable_notified = false;
  bool want_writable = false;  // a write was cut short: tell the application when room returns

  bool done() const { return (!send || send->terminal()) && (!recv || recv->terminal()); }
};

}  // namespace roam::streams
