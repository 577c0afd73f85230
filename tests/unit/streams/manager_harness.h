// Drives StreamManagers the way a connection would: builds "packets" of control frames and STREAM
// frames, delivers them to the peer manager, and reports acknowledgement or loss back.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <variant>
#include <vector>

#include "streams/frame_size.h"
#include "streams/stream_manager.h"

namespace roam::streams::test {

struct DataFrame {
  StreamId id;
  std::uint64_t offset = 0;
  std::vector<std::uint8_t> data;
  bool fin = false;
};

struct Packet {
  std::vector<ControlFrame> control;
  std::vector<DataFrame> data;
  bool empty() const { return control.empty() && data.empty(); }
};

inline std::size_t stream_frame_size(const StreamFrame& f) {
  return stream_frame_header(f.id.value, f.offset) + wire::varint_size(f.data.size()) + f.data.size();
}

// Fills up to `size` bytes the way a packet builder would.
inline Packet build_packet(StreamManager& m, std::size_t size, Instant now) {
  Packet p;
  std::size_t room = size;
  while (auto f = m.pop_control_frame(room, now)) {
    const std::size_t n = encoded_size(*f);
    EXPECT_LE(n, room);
    room -= n;
    p.control.push_back(*f);
  }
  while (auto f = m.next_stream_frame(room)) {
    const std::size_t n = stream_frame_size(*f);
    EXPECT_LE(n, room);
    room -= n;
    p.data.push_back({f->id, f->offset, {f->data.begin(), f->data.end()}, f->fin});
  }
  return p;
}

inline Status deliver_control(StreamManager& to, const ControlFrame& f) {
  struct Visitor {
    StreamManager& m;
    Status operator()(const ResetStreamFrame& x) { return m.on_reset_stream(x.id, x.error_code, x.final_size); }
    Status operator()(const StopSendingFrame& x) { return m.on_stop_sending(x.id, x.error_code); }
    Status operator()(const MaxDataFrame& x) {
      m.on_max_data(x.maximum_data);
      return {};
    }
    Status operator()(const MaxStreamDataFrame& x) { return m.on_max_stream_data(x.id, x.maximum_stream_data); }
    Status operator()(const MaxStreamsFrame& x) { return m.on_max_streams(x.dir, x.maximum_streams); }
    Status operator()(const DataBlockedFrame& x) {
      m.on_data_blocked(x.maximum_data);
      return {};
    }
    Status operator()(const StreamDataBlockedFrame& x) {
      return m.on_stream_data_blocked(x.id, x.maximum_stream_data);
    }
    Status operator()(const StreamsBlockedFrame& x) { return m.on_streams_blocked(x.dir, x.maximum_streams); }
  };
  return std::visit(Visitor{to}, f);
}

inline Status deliver(StreamManager& to, const Packet& p) {
  for (const auto& f : p.control) {
    if (Status s = deliver_control(to, f); !s) return s;
  }
  for (const auto& d : p.data) {
    if (Status s = to.on_stream_frame(d.id, d.offset, d.data, d.fin); !s) return s;
  }
  return {};
}

inline void ack(StreamManager& from, const Packet& p) {
  for (const auto& f : p.control) from.on_control_frame_acked(f);
  for (const auto& d : p.data) from.on_stream_data_acked(d.id, d.offset, d.data.size(), d.fin);
}

inline void lose(StreamManager& from, const Packet& p) {
  for (const auto& f : p.control) from.on_control_frame_lost(f);
  for (const auto& d : p.data) from.on_stream_data_lost(d.id, d.offset, d.data.size(), d.fin);
}

inline StreamLimits limits(std::uint64_t max_data, std::uint64_t stream_window, std::uint64_t max_streams) {
  return {max_data, stream_window, stream_window, stream_window, max_streams, max_streams};
}

// A config without window auto-tuning (max windows equal to the initial ones).
inline StreamConfig config(Side side, const StreamLimits& local) {
  StreamConfig c;
  c.side = side;
  c.local = local;
  c.max_stream_window = 0;
  c.max_connection_window = 0;
  return c;
}

inline std::vector<StreamEvent> drain_events(StreamManager& m) {
  std::vector<StreamEvent> out;
  while (auto e = m.poll_event()) out.push_back(*e);
  return out;
}

}  // namespace roam::streams::test
