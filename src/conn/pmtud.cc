#include "conn/pmtud.h"

namespace roam::conn {

std::size_t PmtuSearch::next_candidate() const {
  // The largest first; then halve the gap between what works and what does not.
  if (!max_tried_) return max_;
  return current_ + (high_ - current_) / 2;
}

std::optional<std::size_t> PmtuSearch::probe_due(Instant now) const {
  if (max_ <= kBase || in_flight_ != 0) return std::nullopt;
  if (done_) {
    if (!raise_at_ || now < *raise_at_) return std::nullopt;
  } else if (high_ <= current_ + kGranularity && max_tried_) {
    return std::nullopt;
  }
  return done_ ? max_ : next_candidate();
}

void PmtuSearch::on_probe_sent(std::size_t size, Instant now) {
  if (done_ && raise_at_ && now >= *raise_at_) {
    // A new search upwards (the path may carry more now).
    done_ = false;
    raise_at_.reset();
    high_ = max_;
    max_tried_ = false;
  }
  in_flight_ = size;
}

bool PmtuSearch::on_probe_acked(std::size_t size) {
  if (size != in_flight_) return false;
  in_flight_ = 0;
  failures_ = 0;
  if (size == max_) max_tried_ = true;
  const bool raised = size > current_;
  if (raised) current_ = size;
  if (current_ >= max_ || (max_tried_ && high_ <= current_ + kGranularity)) {
    done_ = true;
    raise_at_.reset();
  }
  return raised;
}

void PmtuSearch::on_probe_lost(std::size_t size, Instant now) {
  if (size != in_flight_) return;
  in_flight_ = 0;
  if (++failures_ < kMaxProbes) return;  // try the same size again
  failures_ = 0;
  if (size == max_) max_tried_ = true;
  high_ = size;
  if (high_ <= current_ + kGranularity) {
    done_ = true;
    raise_at_ = now + kRaiseInterval;
  }
}

bool PmtuSearch::on_black_hole_suspected() {
  if (current_ <= kBase) return false;
  high_ = current_;
  current_ = kBase;
  max_tried_ = true;
  done_ = false;
  raise_at_.reset();
  failures_ = 0;
  in_flight_ = 0;
  return true;
}

}  // namespace roam::conn
