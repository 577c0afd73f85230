// Fuzzes the frame decoder: decodes frames in a loop until an error or the end, re-encodes each
// decoded frame, decodes it again and requires equality (and, for ACK frames, that encode_ack
// produces the same bytes). Also runs for_each_frame for every packet type. Any disagreement aborts.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz_check.h"

#include "wire/frame_rules.h"
#include "wire/frames.h"

namespace {

using namespace roam;
using namespace roam::wire;

void round_trip(const Frame& f, std::size_t consumed) {
  const std::size_t n = encoded_size(f);
  // Re-encoding uses minimal varints and drops a zero Offset, so it is never longer.
  CHECK(n >= 1 && n <= consumed);
  std::vector<std::uint8_t> buf(n);
  Writer w(buf);
  CHECK(encode_frame(w, f));
  CHECK(w.size() == n);
  Reader r(w.written());
  auto again = decode_frame(r);
  CHECK(again.ok());
  CHECK(r.empty());
  CHECK(*again == f);
  CHECK(frame_type_of(*again) == frame_type_of(f));
  CHECK(buf[0] == frame_type_of(f));

  if (const auto* ack = std::get_if<AckFrame>(&f)) {
    std::vector<std::uint8_t> abuf(n);
    Writer aw(abuf);
    const EcnCounts* ecn = ack->ecn ? &*ack->ecn : nullptr;
    CHECK(encode_ack(aw, ack->ack_delay, ack->ranges, ecn, ack->ranges.size()) == ack->ranges.size());
    CHECK(abuf == buf);
  }
  // A buffer one byte short is refused without writing.
  std::vector<std::uint8_t> small(n - 1);
  Writer sw(small);
  CHECK(!encode_frame(sw, f) && sw.size() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes payload(data, size);
  Reader r(payload);
  std::size_t frames = 0;
  bool decode_failed = false;
  while (!r.empty()) {
    const std::size_t before = r.position();
    auto f = decode_frame(r);
    if (!f.ok()) {
      CHECK(r.position() == before);
      CHECK(f.error().code == TransportError::kFrameEncodingError ||
            f.error().code == TransportError::kProtocolViolation);
      decode_failed = true;
      break;
    }
    CHECK(r.position() > before);
    ++frames;
    round_trip(*f, r.position() - before);
  }

  for (PacketType pt : {PacketType::kInitial, PacketType::kZeroRtt, PacketType::kHandshake, PacketType::kOneRtt}) {
    std::size_t seen = 0;
    Status s = for_each_frame(payload, pt, [&](const Frame& f) {
      CHECK(frame_allowed_in(frame_type_of(f), pt));
      ++seen;
    });
    if (pt == PacketType::kOneRtt) {
      // Every known frame is allowed in 1-RTT, so the walk fails exactly when decoding does.
      CHECK(s.ok() == (!decode_failed && size > 0));
      CHECK(seen == frames);
    }
  }
  return 0;
}
