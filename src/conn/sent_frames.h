// What a sent packet carried that needs action when it is acknowledged or declared lost. Kept by
// the connection per packet (the loss detector only knows a token pointing here).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "common/types.h"
#include "streams/control_frames.h"

namespace roam::conn {

struct SentFrame {
  enum class Kind : std::uint8_t {
    kCrypto,             // a = offset, b = length, level in `level`
    kStream,             // id, a = offset, b = length, fin
    kAck,                // a = largest acknowledged in the frame
    kHandshakeDone,
    kControl,            // a flow-control or stream-control frame owned by the stream manager
    kNewConnectionId,    // a = sequence number
    kRetireConnectionId, // a = sequence number
    kNewToken,
    kPing,
    kMtuProbe,           // a = probe size, id = path
  };
  Kind kind;
  std::uint8_t level = 0;
  bool flag = false;  // fin for kStream, bidi for kMaxStreams/kStreamsBlocked
  std::uint64_t id = 0;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  streams::ControlFrame control{};
};

// Frames per sent packet, addressed by a monotonically increasing token. Records are released from
// the front once settled, so memory follows the number of packets in flight.
class SentFrameLog {
 public:
  // Starts a new record and returns its token.
  std::uint64_t begin() {
    records_.emplace_back();
    return base_ + records_.size() - 1;
  }
  void add(std::uint64_t token, const SentFrame& f) { records_[token - base_].frames.push_back(f); }
  // Frames of a packet, or nullptr if already settled (acked or lost before).
  std::vector<SentFrame>* find(std::uint64_t token) {
    if (token < base_ || token - base_ >= records_.size()) return nullptr;
    auto& r = records_[token - base_];
    return r.settled ? nullptr : &r.frames;
  }
  void settle(std::uint64_t token) {
    if (token < base_ || token - base_ >= records_.size()) return;
    auto& r = records_[token - base_];
    r.settled = true;
    r.frames.clear();
    r.frames.shrink_to_fit();
    while (!records_.empty() && records_.front().settled) {
      records_.pop_front();
      ++base_;
    }
  }
  std::size_t outstanding() const { return records_.size(); }

 private:
  struct Record {
    std::vector<SentFrame> frames;
    bool settled = false;
  };
  std::deque<Record> records_;
  std::uint64_t base_ = 0;
};

}  // namespace roam::conn
