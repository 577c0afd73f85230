#include "streams/control_frames.h"

#include "wire/varint.h"

namespace roam::streams {
namespace {

using wire::varint_size;

struct TypeOf {
  std::uint64_t operator()(const ResetStreamFrame&) const { return kFrameResetStream; }
  std::uint64_t operator()(const StopSendingFrame&) const { return kFrameStopSending; }
  std::uint64_t operator()(const MaxDataFrame&) const { return kFrameMaxData; }
  std::uint64_t operator()(const MaxStreamDataFrame&) const { return kFrameMaxStreamData; }
  std::uint64_t operator()(const MaxStreamsFrame& f) const {
    return f.dir == Direction::kBidi ? kFrameMaxStreamsBidi : kFrameMaxStreamsUni;
  }
  std::uint64_t operator()(const DataBlockedFrame&) const { return kFrameDataBlocked; }
  std::uint64_t operator()(const StreamDataBlockedFrame&) const { return kFrameStreamDataBlocked; }
  std::uint64_t operator()(const StreamsBlockedFrame& f) const {
    return f.dir == Direction::kBidi ? kFrameStreamsBlockedBidi : kFrameStreamsBlockedUni;
  }
};

struct SizeOf {
  std::size_t operator()(const ResetStreamFrame& f) const {
    return 1 + varint_size(f.id.value) + varint_size(f.error_code) + varint_size(f.final_size);
  }
  std::size_t operator()(const StopSendingFrame& f) const {
    return 1 + varint_size(f.id.value) + varint_size(f.error_code);
  }
  std::size_t operator()(const MaxDataFrame& f) const { return 1 + varint_size(f.maximum_data); }
  std::size_t operator()(const MaxStreamDataFrame& f) const {
    return 1 + varint_size(f.id.value) + varint_size(f.maximum_stream_data);
  }
  std::size_t operator()(const MaxStreamsFrame& f) const { return 1 + varint_size(f.maximum_streams); }
  std::size_t operator()(const DataBlockedFrame& f) const { return 1 + varint_size(f.maximum_data); }
  std::size_t operator()(const StreamDataBlockedFrame& f) const {
    return 1 + varint_size(f.id.value) + varint_size(f.maximum_stream_data);
  }
  std::size_t operator()(const StreamsBlockedFrame& f) const { return 1 + varint_size(f.maximum_streams); }
};

}  // namespace

std::uint64_t frame_type(const ControlFrame& f) { return std::visit(TypeOf{}, f); }
std::size_t encoded_size(const ControlFrame& f) { return std::visit(SizeOf{}, f); }

}  // namespace roam::streams
