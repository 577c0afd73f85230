#include "recovery/cubic.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace roam::recovery {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

double cubic_window(double t, double k, double w_max, double c) {
  const double x = t - k;
  return c * x * x * x + w_max;
}

double cubic_k(double w_max, double cwnd_epoch, double c) {
  if (w_max <= cwnd_epoch || c <= 0) return 0;
  return std::cbrt((w_max - cwnd_epoch) / c);
}

void Cubic::start_epoch(Instant now) {
  epoch_start_ = now;
  const double cwnd = static_cast<double>(cwnd_);
  const double c = kCubicC * static_cast<double>(max_datagram_size_);
  if (w_max_ <= cwnd) {
    // No reduction to recover from (e.g. after persistent congestion, RFC 9438 4.8): the curve
    // starts at its plateau and grows convexly from the current window.
    w_max_ = cwnd;
    k_ = 0;
  } else {
    k_ = cubic_k(w_max_, cwnd, c);
  }
  w_est_ = cwnd;
  remainder_ = 0;
}

void Cubic::grow_in_avoidance(const SentPacket& packet, Instant now, const RttEstimator& rtt) {
  if (!epoch_start_) start_epoch(now);
  const double mds = static_cast<double>(max_datagram_size_);
  const double c = kCubicC * mds;
  const double cwnd = static_cast<double>(cwnd_);
  const double acked = static_cast<double>(packet.bytes);
  const double t = seconds(now - *epoch_start_);

  // Reno-friendly estimate: alpha datagrams per window acknowledged.
  const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : kCubicRenoAlpha;
  w_est_ += alpha * acked * mds / cwnd;

  double increase = 0;
  if (cubic_window(t, k_, w_max_, c) < w_est_) {
    // Reno-friendly region: follow the estimate (never shrinking the window).
    increase = std::max(0.0, w_est_ - cwnd);
  } else {
    // Concave or convex region: approach W_cubic one RTT ahead, at most 1.5x per window.
    const double target = std::clamp(cubic_window(t + seconds(rtt.smoothed_rtt()), k_, w_max_, c), cwnd, 1.5 * cwnd);
    increase = (target - cwnd) * acked / cwnd;
  }
  remainder_ += increase;
  const double whole = std::floor(remainder_);
  remainder_ -= whole;
  cwnd_ += static_cast<std::size_t>(whole);
}

void Cubic::reduce_window(Instant /*now*/) {
  const double cwnd = static_cast<double>(cwnd_);
  // Fast convergence: a window that stopped short of the previous W_max releases bandwidth.
  w_max_ = fast_convergence_ && cwnd < w_max_ ? cwnd * (1.0 + kCubicBeta) / 2.0 : cwnd;
  cwnd_prior_ = cwnd;
  ssthresh_ = std::max(static_cast<std::size_t>(std::llround(cwnd * kCubicBeta)), minimum_window_);
  cwnd_ = ssthresh_;
  epoch_start_.reset();
  remainder_ = 0;
}

void Cubic::on_window_collapsed() {
  epoch_start_.reset();
  w_max_ = 0;  // the next congestion avoidance stage starts with K = 0 (RFC 9438 4.8)
  remainder_ = 0;
}

void Cubic::on_app_limited_period(Duration length) {
  // Time without window updates does not count toward t (RFC 9438 5.8).
  if (epoch_start_) *epoch_start_ += length;
}

void Cubic::on_reset() {
  w_max_ = 0;
  cwnd_prior_ = 0;
  k_ = 0;
  w_est_ = 0;
  remainder_ = 0;
  epoch_start_.reset();
}

}  // namespace roam::recovery
