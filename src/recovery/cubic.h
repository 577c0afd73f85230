// CUBIC congestion control (RFC 9438) over the shared QUIC recovery machinery: the window follows
// W_cubic(t) = C * (t - K)^3 + W_max in congestion avoidance, shrinks by beta = 0.7 on a congestion
// event, with fast convergence and the Reno-friendly region. Windows are kept in bytes, so the
// curve's C is scaled by the datagram size.
#pragma once

#include <optional>

#include "recovery/loss_based_controller.h"

namespace roam::recovery {

inline constexpr double kCubicC = 0.4;
inline constexpr double kCubicBeta = 0.7;
// Additive increase of the Reno-friendly estimate per window until it reaches the window at the
// last congestion event: 3 * (1 - beta) / (1 + beta) (RFC 9438 4.3).
inline constexpr double kCubicRenoAlpha = 3.0 * (1.0 - kCubicBeta) / (1.0 + kCubicBeta);

// W_cubic(t) = c * (t - k)^3 + w_max, with t and k in seconds and the windows in any one unit.
double cubic_window(double t, double k, double w_max, double c = kCubicC);
// K = cbrt((w_max - cwnd_epoch) / c), zero when w_max <= cwnd_epoch.
double cubic_k(double w_max, double cwnd_epoch, double c = kCubicC);

class Cubic final : public LossBasedController {
 public:
  explicit Cubic(const CongestionConfig& config = {})
      : LossBasedController(config), fast_convergence_(config.cubic_fast_convergence) {}
  CongestionAlgorithm algorithm() const override { return CongestionAlgorithm::kCubic; }

  double w_max() const { return w_max_; }          // bytes
  double k() const { return k_; }                  // seconds
  std::unique_ptr<CongestionController> clone_without_flight() const override {
    auto c = std::make_unique<Cubic>(*this);
    c->clear_flight();
    return c;
  }
  double w_est() const { return w_est_; }          // bytes, Reno-friendly estimate
  std::optional<Instant> epoch_start() const { return epoch_start_; }

 private:
  void grow_in_avoidance(const SentPacket& packet, Instant now, const RttEstimator& rtt) override;
  void reduce_window(Instant now) override;
  void on_window_collapsed() override;
  void on_app_limited_period(Duration length) override;
  void on_reset() override;
  void start_epoch(Instant now);

  bool fast_convergence_;
  double w_max_ = 0;       // window before the last reduction (after fast convergence)
  double cwnd_prior_ = 0;  // window at the last congestion event
  double k_ = 0;
  double w_est_ = 0;
  double remainder_ = 0;   // fractional bytes of growth not yet added to cwnd_
  std::optional<Instant> epoch_start_;  // start of the current congestion avoidance stage
};

}  // namespace roam::recovery
