#include "recovery/path_recovery.h"

namespace roam::recovery {

PathRecovery::PathRecovery(const RecoveryConfig& config)
    : rtt_(config.initial_rtt),
      cc_(make_congestion_controller(config.congestion, config.cc)),
      pacer_(cc_->max_datagram_size(), config.pacer) {}

void PathRecovery::on_packet_sent(Instant now, std::size_t bytes) {
  cc_->on_packet_sent(now, bytes);
  pacer_.update_rate(now, cc_->cwnd(), rtt_.smoothed_rtt());
  pacer_.on_packet_sent(now, bytes);
}

std::optional<Instant> PathRecovery::next_send_time(Instant now, std::size_t bytes) {
  pacer_.update_rate(now, cc_->cwnd(), rtt_.smoothed_rtt());
  return pacer_.next_send_time(now, bytes);
}

void PathRecovery::set_max_datagram_size(std::size_t bytes) {
  cc_->set_max_datagram_size(bytes);
  pacer_.set_max_datagram_size(cc_->max_datagram_size());
}

void PathRecovery::reset() {
  rtt_.reset();
  cc_->reset();
  pacer_.reset();
}

std::unique_ptr<PathRecovery> PathRecovery::inherit() const {
  return std::make_unique<PathRecovery>(rtt_, cc_->clone_without_flight(), pacer_);
}

}  // namespace roam::recovery
