#include "conn/ecn.h"

namespace roam::conn {

void EcnValidator::on_packet_sent(std::uint8_t codepoint) {
  if (codepoint != kEcnEct0) return;
  if (state_ == EcnState::kTesting && ++testing_sent_ >= kTestingPackets) state_ = EcnState::kUnknown;
}

void EcnValidator::on_marked_lost(std::uint64_t count) {
  if (state_ != EcnState::kTesting && state_ != EcnState::kUnknown) return;
  testing_lost_ += count;
  if (testing_sent_ >= kTestingPackets && testing_lost_ >= testing_sent_) fail();
}

bool EcnValidator::on_ack(std::uint64_t newly_acked_ect0, const std::optional<wire::EcnCounts>& counts,
                          wire::EcnCounts& previous, std::uint64_t sent_ect0) {
  if (state_ == EcnState::kFailed) return false;
  if (!counts) {
    if (newly_acked_ect0 > 0) fail();  // marks were erased, or the peer does not report them
    return false;
  }
  const wire::EcnCounts& c = *counts;
  if (c.ect0 < previous.ect0 || c.ect1 < previous.ect1 || c.ce < previous.ce) {
    fail();
    return false;
  }
  const std::uint64_t grew = (c.ect0 - previous.ect0) + (c.ce - previous.ce);
  // ECT(1) was never sent; ECT(0)+CE cannot exceed what we marked.
  if (grew < newly_acked_ect0 || c.ect1 > 0 || c.ect0 + c.ce > sent_ect0) {
    fail();
    previous = c;
    return false;
  }
  const bool ce_grew = c.ce > previous.ce;
  previous = c;
  if (newly_acked_ect0 > 0 && state_ != EcnState::kCapable) state_ = EcnState::kCapable;
  return ce_grew;
}

}  // namespace roam::conn
