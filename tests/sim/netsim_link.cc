#include "netsim_link.h"

#include <algorithm>

namespace roam::sim {

bool Link::chance(double p) {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  const double u = static_cast<double>(random_.next_u64() >> 11) * 0x1.0p-53;
  return u < p;
}

bool Link::lost() {
  if (!config_.burst) return chance(config_.loss);
  const GilbertElliott& ge = *config_.burst;
  if (bad_state_) {
    if (chance(ge.p_bad_to_good)) bad_state_ = false;
  } else if (chance(ge.p_good_to_bad)) {
    bad_state_ = true;
  }
  return chance(bad_state_ ? ge.loss_bad : ge.loss_good);
}

std::optional<Instant> Link::transmit(Instant now, std::size_t size) {
  ++stats_.offered;
  if (!config_.up) {
    ++stats_.dropped_down;
    return std::nullopt;
  }
  if (size > config_.mtu) {
    ++stats_.dropped_mtu;
    return std::nullopt;
  }
  Instant depart = now;
  if (config_.rate_bytes_per_s > 0) {
    // Drop-tail: the bytes still queued are what the link has not finished serialising.
    const auto rate = static_cast<long double>(config_.rate_bytes_per_s);
    const Duration backlog = busy_until_ > now ? busy_until_ - now : Duration::zero();
    const auto queued = static_cast<std::size_t>(static_cast<long double>(backlog.count()) * rate / 1e9L);
    if (queued + size > config_.queue_bytes) {
      ++stats_.dropped_queue;
      return std::nullopt;
    }
    const auto serialise = Duration(static_cast<Duration::rep>(static_cast<long double>(size) * 1e9L / rate));
    busy_until_ = std::max(now, busy_until_) + serialise;
    depart = busy_until_;
  }
  // Loss on the wire, after the queue: a lost datagram still used its share of the bottleneck.
  if (lost()) {
    ++stats_.dropped_loss;
    return std::nullopt;
  }
  Instant arrival = depart + config_.delay;
  if (config_.jitter > Duration::zero()) {
    arrival += Duration(static_cast<Duration::rep>(random_.uniform(static_cast<std::uint64_t>(config_.jitter.count()) + 1)));
  }
  if (chance(config_.reorder)) {
    arrival += config_.reorder_delay;
    ++stats_.reordered;
  }
  ++stats_.delivered;
  stats_.bytes_delivered += size;
  return arrival;
}

}  // namespace roam::sim
