// A LossDetector wired to one or more PathRecovery objects, with helpers to send and acknowledge
// packets on a virtual clock.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "recovery/loss_detector.h"
#include "recovery_test_util.h"

namespace roam::recovery::test {

inline RecoveryConfig newreno_config() {
  RecoveryConfig config;
  config.congestion = CongestionAlgorithm::kNewReno;
  return config;
}

// Paths by id; unknown ids are paths that are gone.
class PathTable final : public PathRecoveryLookup {
 public:
  explicit PathTable(const RecoveryConfig& config) : config_(config) {}
  PathRecovery& add(std::uint32_t id) {
    auto& slot = paths_[id];
    slot = std::make_unique<PathRecovery>(config_);
    return *slot;
  }
  PathRecovery& operator[](std::uint32_t id) { return *paths_.at(id); }
  PathRecovery* find(PathId path) override {
    auto it = paths_.find(path.value);
    return it == paths_.end() ? nullptr : it->second.get();
  }

 private:
  RecoveryConfig config_;
  std::map<std::uint32_t, std::unique_ptr<PathRecovery>> paths_;
};

class Harness {
 public:
  explicit Harness(Role role = Role::kServer, const RecoveryConfig& config = newreno_config())
      : paths(config), path(paths.add(0)), ld(role, paths, config) {}

  void send(Space space, std::uint64_t pn, Instant t, bool ack_eliciting = true, std::uint32_t path_id = 0) {
    ASSERT_TRUE(ld.on_packet_sent(space, packet(pn, t, 1200, ack_eliciting, PathId{path_id})).ok());
  }
  void send_ack_only(Space space, std::uint64_t pn, Instant t) {
    ASSERT_TRUE(ld.on_packet_sent(space, ack_only(pn, t)).ok());
  }
  Result<AckOutcome> ack(Space space, std::vector<AckRange> ranges, Instant now,
                         Duration ack_delay = Duration::zero(), std::optional<std::uint64_t> ce = std::nullopt) {
    ranges_ = std::move(ranges);
    return ld.on_ack_received(space, ranges_, ack_delay, ce, now);
  }

  PathTable paths;
  PathRecovery& path;
  LossDetector ld;

 private:
  std::vector<AckRange> ranges_;
};

inline std::vector<std::uint64_t> pns(std::span<const SentPacket> packets) {
  std::vector<std::uint64_t> out;
  for (const SentPacket& p : packets) out.push_back(p.pn);
  return out;
}

}  // namespace roam::recovery::test
