// Loss detection and congestion control per-packet cost: a bulk sender acknowledged every
// second packet, with and without 1% loss, and an ACK frame re-acknowledging many old ranges.
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "recovery/loss_detector.h"
#include "recovery/path_recovery.h"

namespace {

using roam::Duration;
using roam::Instant;
using roam::PathId;
using namespace roam::recovery;

SentPacket make_packet(std::uint64_t pn, Instant t) {
  SentPacket p;
  p.pn = pn;
  p.time_sent = t;
  p.bytes = 1200;
  p.ack_eliciting = true;
  p.in_flight = true;
  p.token = pn;
  return p;
}

// Sends packets every 10 us; each ACK arrives 20 ms later and covers [largest - 63, largest]
// minus the lost packets (every `loss_every`-th, 0 for none), so most of it re-acknowledges.
void run_bulk(benchmark::State& state, std::uint64_t loss_every) {
  RecoveryConfig config;
  PathRecovery path(config);
  SinglePathLookup lookup(PathId{0}, path);
  LossDetector ld(Role::kServer, lookup, config);
  ld.on_handshake_confirmed(Instant{});
  std::vector<AckRange> ranges;
  std::uint64_t pn = 0;
  const Duration rtt = std::chrono::milliseconds(20);
  const Duration gap = std::chrono::microseconds(10);
  std::size_t lost = 0;
  for (auto _ : state) {
    const Instant now = Instant{} + gap * static_cast<long>(pn);
    if (!ld.on_packet_sent(Space::kApplication, make_packet(pn, now)).ok()) state.SkipWithError("send");
    // The packet sent one RTT ago is being acknowledged now.
    const auto back = static_cast<std::uint64_t>(rtt / gap);
    if (pn % 2 == 1 && pn > back) {
      const std::uint64_t largest = pn - back;
      const std::uint64_t smallest = largest > 63 ? largest - 63 : 0;
      ranges.clear();
      std::uint64_t hi = largest;
      for (std::uint64_t x = largest + 1; x-- > smallest;) {
        const bool is_lost = loss_every != 0 && x % loss_every == 0;
        if (is_lost) {
          if (x < hi) ranges.push_back({x + 1, hi});
          if (x == 0) break;
          hi = x - 1;
        } else if (x == smallest) {
          ranges.push_back({x, hi});
        }
      }
      if (!ranges.empty()) {
        auto r = ld.on_ack_received(Space::kApplication, std::span<const AckRange>(ranges), Duration::zero(),
                                    std::nullopt, now);
        if (!r.ok()) state.SkipWithError("ack");
        lost += r->lost.size();
      }
    }
    ++pn;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(pn));
  state.counters["lost"] = static_cast<double>(lost);
}

void BM_BulkNoLoss(benchmark::State& state) { run_bulk(state, 0); }
void BM_BulkOnePercentLoss(benchmark::State& state) { run_bulk(state, 100); }
BENCHMARK(BM_BulkNoLoss);
BENCHMARK(BM_BulkOnePercentLoss);

// One ACK frame of `state.range(0)` ranges over packets that were all acknowledged long ago.
void BM_StaleAckFrame(benchmark::State& state) {
  RecoveryConfig config;
  PathRecovery path(config);
  SinglePathLookup lookup(PathId{0}, path);
  LossDetector ld(Role::kServer, lookup, config);
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (std::uint64_t pn = 0; pn < 2 * n; ++pn) (void)ld.on_packet_sent(Space::kApplication, make_packet(pn, Instant{}));
  const AckRange all{0, 2 * n - 1};
  (void)ld.on_ack_received(Space::kApplication, std::span(&all, 1), Duration::zero(), std::nullopt,
                           Instant{} + std::chrono::milliseconds(10));
  std::vector<AckRange> ranges;
  for (std::uint64_t i = 0; i < n; ++i) ranges.push_back({2 * (n - 1 - i), 2 * (n - 1 - i)});
  for (auto _ : state) {
    auto r = ld.on_ack_received(Space::kApplication, std::span<const AckRange>(ranges), Duration::zero(),
                                std::nullopt, Instant{} + std::chrono::milliseconds(20));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_StaleAckFrame)->Arg(16)->Arg(256)->Arg(4096);

}  // namespace
BENCHMARK_MAIN();
