// All streams of one connection (RFC 9000 sections 2-4): opening and accepting streams within the
// MAX_STREAMS limits, connection-level flow control in both directions, the application's
// read/write API with pulled events, the handlers for the peer's stream frames, and the interface
// the packet builder pulls from (control frames, then stream data in round robin) and reports
// acknowledgements and losses to. Pure logic: time is an argument, frames are plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

#include "common/error.h"
#include "common/types.h"
#include "streams/control_frames.h"
#include "streams/fifo.h"
#include "streams/flow_control.h"
#include "streams/recv_stream.h"
#include "streams/send_stream.h"
#include "streams/stream.h"
#include "streams/stream_id.h"
#include "streams/stream_list.h"

namespace roam::streams {

// The stream-related transport parameters one endpoint sends (RFC 9000 18.2): the limits it grants
// its peer.
struct StreamLimits {
  std::uint64_t max_data = 0;                     // initial_max_data
  std::uint64_t max_stream_data_bidi_local = 0;   // for bidi streams the sender of the parameter opens
  std::uint64_t max_stream_data_bidi_remote = 0;  // for bidi streams its peer opens
  std::uint64_t max_stream_data_uni = 0;          // for uni streams its peer opens
  std::uint64_t max_streams_bidi = 0;
  std::uint64_t max_streams_uni = 0;
};

struct StreamConfig {
  Side side = Side::kClient;
  StreamLimits local;                             // what we advertise in our transport parameters
  std::uint64_t send_buffer_limit = 4u << 20;     // unacknowledged bytes write() accepts per stream
  std::uint64_t max_stream_window = 16u << 20;    // receive window auto-tuning caps (see flow_control.h)
  std::uint64_t max_connection_window = 24u << 20;
};

struct StreamEvent {
  enum class Kind : std::uint8_t {
    kOpened,    // the peer opened this stream
    kReadable,  // data, the end of the stream or a reset can be read (edge-triggered: read until 0)
    kWritable,  // a write that was cut short can continue
    kStopped,   // the peer sent STOP_SENDING (error_code); the stream was reset with that code
  };
  Kind kind = Kind::kOpened;
  StreamId id;
  std::uint64_t error_code = 0;
  bool operator==(const StreamEvent&) const = default;
};

// Stream data for one STREAM frame; data is valid until the next call into the manager.
struct StreamFrame {
  StreamId id;
  std::uint64_t offset = 0;
  Bytes data;
  bool fin = false;
};

class StreamManager {
 public:
  explicit StreamManager(const StreamConfig& config);
  ~StreamManager();
  StreamManager(const StreamManager&) = delete;
  StreamManager& operator=(const StreamManager&) = delete;

  Side side() const { return cfg_.side; }
  // The peer's transport parameters (or remembered ones for 0-RTT; a later call only raises
  // limits). TRANSPORT_PARAMETER_ERROR if a stream count exceeds 2^60.
  Status set_peer_limits(const StreamLimits& peer);
  // Smoothed RTT from recovery, for receive-window auto-tuning (zero disables it).
  void set_rtt_hint(Duration smoothed_rtt) { rtt_ = smoothed_rtt; }

  // --- application ---
  // A new local stream; STREAM_LIMIT_ERROR while the peer's MAX_STREAMS is used up (a
  // STREAMS_BLOCKED is then queued).
  Result<StreamId> open_stream(Direction dir);
  // Accepts as much as the stream's send buffer allows (0 when full: wait for kWritable); fin ends
  // the stream once all of data was taken. STREAM_STATE_ERROR for an unknown, closed, receive-only,
  // finished or reset stream.
  Result<std::size_t> write(StreamId id, Bytes data, bool fin = false);
  Result<ReadResult> read(StreamId id, MutBytes out);
  // Zero-copy reading: peek() shows contiguous bytes, consume(n) releases them.
  Result<Bytes> peek(StreamId id);
  Result<ReadResult> consume(StreamId id, std::size_t n);
  // Abandons sending (RESET_STREAM with error_code); no-op if already reset or fully acknowledged.
  Status reset_stream(StreamId id, std::uint64_t error_code);
  // Abandons reading (STOP_SENDING with error_code if the peer may still send).
  Status stop_sending(StreamId id, std::uint64_t error_code);
  std::optional<StreamEvent> poll_event();

  // --- frames from the peer (errors carry the RFC 9000 code and the frame type) ---
  Status on_stream_frame(StreamId id, std::uint64_t offset, Bytes data, bool fin);
  Status on_reset_stream(StreamId id, std::uint64_t error_code, std::uint64_t final_size);
  Status on_stop_sending(StreamId id, std::uint64_t error_code);
  void on_max_data(std::uint64_t maximum);
  Status on_max_stream_data(StreamId id, std::uint64_t maximum);
  Status on_max_streams(Direction dir, std::uint64_t maximum);
  void on_data_blocked(std::uint64_t maximum);
  Status on_stream_data_blocked(StreamId id, std::uint64_t maximum);
  Status on_streams_blocked(Direction dir, std::uint64_t maximum);

  // --- packet builder ---
  bool has_control_frames() const;
  // The next control frame if it fits in max_bytes (encoded_size()), in priority order: MAX_DATA,
  // MAX_STREAMS, per-stream frames in the order they arose (RESET_STREAM, STOP_SENDING,
  // MAX_STREAM_DATA, STREAM_DATA_BLOCKED), DATA_BLOCKED, STREAMS_BLOCKED. A returned frame counts
  // as sent. `now` drives window auto-tuning.
  std::optional<ControlFrame> pop_control_frame(std::size_t max_bytes, Instant now);
  // True if next_stream_frame() would produce something (given room).
  bool has_stream_data() const;
  // The next STREAM frame whose encoding (with an explicit Length field) fits in max_frame_size:
  // retransmissions first, then new data, each in round robin across streams (a stream that fills
  // the frame goes to the back), new data bounded by connection credit. Call repeatedly to fill a
  // packet; nullopt when nothing fits or nothing is sendable.
  std::optional<StreamFrame> next_stream_frame(std::size_t max_frame_size);
  void on_stream_data_acked(StreamId id, std::uint64_t offset, std::uint64_t len, bool fin);
  void on_stream_data_lost(StreamId id, std::uint64_t offset, std::uint64_t len, bool fin);
  void on_control_frame_acked(const ControlFrame& f);
  // Re-queues the frame only if it is still relevant (e.g. not for a MAX_DATA since superseded).
  void on_control_frame_lost(const ControlFrame& f);

  // --- introspection ---
  std::size_t stream_count() const { return streams_.size(); }
  bool exists(StreamId id) const { return streams_.count(id.value) != 0; }
  std::optional<SendState> send_state(StreamId id) const;
  std::optional<RecvState> recv_state(StreamId id) const;
  const SendFlowController& connection_send_flow() const { return conn_send_; }
  const RecvFlowController& connection_recv_flow() const { return conn_recv_; }
  // The MAX_STREAMS value we last sent (or advertised in transport parameters) for peer streams.
  std::uint64_t max_streams_advertised(Direction dir) const { return adv_max_streams_[direction_index(dir)]; }
  // The peer's current limit on our streams and how many we opened.
  std::uint64_t peer_max_streams(Direction dir) const { return peer_max_streams_[direction_index(dir)]; }
  std::uint64_t local_streams_opened(Direction dir) const { return next_local_[direction_index(dir)]; }
  std::uint64_t peer_streams_opened(Direction dir) const { return next_peer_[direction_index(dir)]; }

 private:
  using RetxList = IntrusiveList<Stream, &Stream::retx_hook>;
  using SendList = IntrusiveList<Stream, &Stream::send_hook>;

  struct PendingStreamControl {
    std::uint64_t id;
    StreamControl kind;
  };

  Stream* find(StreamId id) const;
  Stream& create(StreamId id);
  // The stream a peer's frame names, opening peer streams up to it. nullptr (ok): a stream that
  // existed and is closed, so the frame is ignored.
  Result<Stream*> stream_for_frame(StreamId id, bool needs_recv_part, std::uint64_t frame_type);
  Result<Stream*> stream_for_app(StreamId id, bool needs_recv_part) const;
  std::uint64_t initial_send_limit(StreamId id) const;
  std::uint64_t initial_recv_window(StreamId id) const;

  void queue(Stream& s, StreamControl kind);
  void push_event(StreamEvent::Kind kind, StreamId id, std::uint64_t code = 0);
  // Recomputes the stream's place in the send round robins and queues STREAM_DATA_BLOCKED.
  void reschedule(Stream& s);
  void check_connection_blocked();
  // After a read / reset / stop: hands released credit to the connection and queues updates.
  void after_recv_progress(Stream& s);
  void after_send_progress(Stream& s);
  // Frees the stream if both parts are done; may replenish MAX_STREAMS. Returns true if freed.
  bool maybe_close(Stream& s);
  std::optional<StreamFrame> take_chunk(Stream& s, std::size_t max_frame_size, std::uint64_t conn_credit,
                                        bool* filled);
  std::optional<ControlFrame> stream_control_frame(Stream& s, StreamControl kind, Instant now, bool* relevant);
  void commit_stream_control(Stream& s, const ControlFrame& f, Instant now);
  std::uint64_t max_streams_target(int d) const;

  StreamConfig cfg_;
  StreamLimits peer_{};
  Duration rtt_{0};
  std::unordered_map<std::uint64_t, std::unique_ptr<Stream>> streams_;

  SendFlowController conn_send_;
  RecvFlowController conn_recv_;

  std::uint64_t next_local_[2] = {0, 0};        // streams we opened, per direction
  std::uint64_t peer_max_streams_[2] = {0, 0};  // the peer's MAX_STREAMS for our streams
  std::uint64_t streams_blocked_reported_[2] = {0, 0};
  bool streams_blocked_was_reported_[2] = {false, false};
  std::uint64_t next_peer_[2] = {0, 0};         // peer streams opened so far, per direction
  std::uint64_t peer_closed_[2] = {0, 0};       // peer streams closed and freed
  std::uint64_t adv_max_streams_[2] = {0, 0};   // MAX_STREAMS we advertised

  bool max_data_pending_ = false;
  bool data_blocked_pending_ = false;
  bool max_streams_pending_[2] = {false, false};
  bool streams_blocked_pending_[2] = {false, false};
  Fifo<PendingStreamControl> stream_control_;

  RetxList retx_list_;
  SendList send_list_;
  Fifo<StreamEvent> events_;
};

}  // namespace roam::streams
