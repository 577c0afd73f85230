// Tunables of loss recovery and congestion control, with the RFC 9002 recommended defaults.
#pragma once

#include <cstdint>

#include "recovery/congestion_controller.h"
#include "recovery/pacer.h"
#include "recovery/rtt_estimator.h"

namespace roam::recovery {

struct RecoveryConfig {
  Duration initial_rtt = kDefaultInitialRtt;
  CongestionAlgorithm congestion = CongestionAlgorithm::kCubic;
  CongestionConfig cc;  // holds max_datagram_size
  PacerConfig pacer;
  std::uint64_t packet_threshold = 3;              // kPacketThreshold (RFC 9002 6.1.1), at least 3
  unsigned persistent_congestion_threshold = 3;    // kPersistentCongestionThreshold
  std::uint8_t pto_probe_packets = 2;              // ack-eliciting datagrams per PTO: 1 or 2
};

}  // namespace roam::recovery
