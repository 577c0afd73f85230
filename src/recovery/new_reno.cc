#include "recovery/new_reno.h"

namespace roam::recovery {

void NewReno::grow_in_avoidance(const SentPacket& packet, Instant /*now*/, const RttEstimator& /*rtt*/) {
  bytes_acked_ += packet.bytes;
  if (bytes_acked_ >= cwnd_) {
    bytes_acked_ -= cwnd_;
    cwnd_ += max_datagram_size_;
  }
}

void NewReno::reduce_window(Instant /*now*/) {
  ssthresh_ = cwnd_ / 2;  // kLossReductionFactor = 0.5
  cwnd_ = ssthresh_;      // raised to the minimum window by the caller
  bytes_acked_ = 0;
}

}  // namespace roam::recovery
