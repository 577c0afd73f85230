// The recovery state that belongs to one network path (DESIGN.md: RTT and congestion state are
// per path so that migration can reset them, RFC 9000 9.4): its RTT estimator, congestion
// controller and pacer. A path owns one; the LossDetector reaches it through PathRecoveryLookup.
#pragma once

#include <memory>
#include <optional>

#include "recovery/congestion_controller.h"
#include "recovery/pacer.h"
#include "recovery/recovery_config.h"
#include "recovery/rtt_estimator.h"

namespace roam::recovery {

class PathRecovery {
 public:
  explicit PathRecovery(const RecoveryConfig& config = {});
  PathRecovery(const RttEstimator& rtt, std::unique_ptr<CongestionController> cc, const Pacer& pacer)
      : rtt_(rtt), cc_(std::move(cc)), pacer_(pacer) {}

  RttEstimator& rtt() { return rtt_; }
  const RttEstimator& rtt() const { return rtt_; }
  CongestionController& cc() { return *cc_; }
  const CongestionController& cc() const { return *cc_; }
  Pacer& pacer() { return pacer_; }
  const Pacer& pacer() const { return pacer_; }

  // An in-flight packet was sent on this path (called by the LossDetector): congestion window
  // and pacer are charged.
  void on_packet_sent(Instant now, std::size_t bytes);
  // Pacing with the current window and smoothed RTT: nullopt means send now. `bytes` may be a
  // whole GSO batch.
  std::optional<Instant> next_send_time(Instant now, std::size_t bytes);
  bool can_send(std::size_t bytes) const { return cc_->can_send(bytes); }
  // PMTU changed: congestion windows and pacing burst follow.
  void set_max_datagram_size(std::size_t bytes);
  // RFC 9000 9.4: a new path starts from the initial RTT and congestion state.
  void reset();
  // The same RTT estimate, window and pacing rate with nothing in flight, for a path that
  // replaces this one after a port-only change (RFC 9000 9.4 lets it keep them).
  std::unique_ptr<PathRecovery> inherit() const;

 private:
  RttEstimator rtt_;
  std::unique_ptr<CongestionController> cc_;
  Pacer pacer_;
};

}  // namespace roam::recovery
