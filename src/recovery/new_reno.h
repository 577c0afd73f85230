// NewReno (RFC 9002 section 7 and appendix B): halve on a congestion event, one datagram per
// window of acknowledged bytes in congestion avoidance.
#pragma once

#include "recovery/loss_based_controller.h"

namespace roam::recovery {

class NewReno final : public LossBasedController {
 public:
  explicit NewReno(const CongestionConfig& config = {}) : LossBasedController(config) {}
  CongestionAlgorithm algorithm() const override { return CongestionAlgorithm::kNewReno; }
  std::unique_ptr<CongestionController> clone_without_flight() const override {
    auto c = std::make_unique<NewReno>(*this);
    c->clear_flight();
    return c;
  }

 private:
  void grow_in_avoidance(const SentPacket& packet, Instant now, const RttEstimator& rtt) override;
  void reduce_window(Instant now) override;
  void on_window_collapsed() override { bytes_acked_ = 0; }
  void on_reset() override { bytes_acked_ = 0; }

  // Bytes acknowledged in congestion avoidance since the window last grew (RFC 3465 2.1): the
  // window grows by one datagram each time a full window's worth has been acknowledged.
  std::size_t bytes_acked_ = 0;
};

}  // namespace roam::recovery
