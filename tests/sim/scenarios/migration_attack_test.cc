// Address spoofing (roam issue 4, scenario 6; RFC 9000 9.3.1, 9.3.2, 21.5.4). An attacker sees
// the client's datagrams and replays copies with a victim's address as the source. The server
// must never send the victim more than three times what it received from that address (the
// anti-amplification limit of an unvalidated address), and the connection must stay with the
// real client: a copy that arrives late is a duplicate and moves nothing; a copy that arrives
// first may move the server for a moment, but the client's next packet (a higher packet number
// from the validated address) brings it straight back.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "migration_util.h"
#include "seeds.h"

namespace roam::sim {
namespace {

const SocketAddress kVictim = *SocketAddress::parse("10.66.0.9:7777");

struct Attack {
  std::uint64_t injected = 0;        // datagrams the attacker replayed
  std::uint64_t injected_bytes = 0;  // what the server received "from" the victim
  std::uint64_t to_victim_bytes = 0; // what the server sent to the victim
  std::uint64_t to_victim = 0;
  std::uint64_t moved_back_checks = 0;  // times the client's next packet was seen to restore the path
  bool server_stayed_away = false;      // the server's path was still the victim's after that
};

// Replays a copy of every `every`-th short-header datagram the client sends (at most `max`),
// arriving `copy_delay` after it was sent (the original takes the link's 10 ms).
Attack run_attack(std::uint64_t seed, Duration copy_delay, std::uint64_t every, std::uint64_t max,
                  std::string& summary) {
  PairOptions o;
  o.seed = seed;
  o.up.delay = o.down.delay = milliseconds(10);
  o.up.rate_bytes_per_s = o.down.rate_bytes_per_s = 20'000'000 / 8;
  o.down.queue_bytes = o.up.queue_bytes = 100'000;
  o.down.loss = 0.001;  // each seed its own course
  Pair p(o);
  // The victim exists only as an address the server can send to (nobody answers there).
  p.net().connect(p.server_addr, kVictim, LinkConfig{});
  Attack a;
  EXPECT_TRUE(p.handshake(seconds(10))) << p.summary();
  const std::size_t i = p.app().add(Op::kDownload, 5'000'000, 11000 + seed, p.net().now());

  std::uint64_t client_short = 0;
  bool armed = true;  // inject only after the handshake
  // After a copy got there first: wait for its original (a duplicate), then for the client's
  // next datagram after it, and then check where the server sends.
  enum class Watch { kNone, kOriginal, kNext, kCheck } watch = Watch::kNone;
  std::vector<std::uint8_t> copy;
  p.net().add_tap([&](const WireEvent& e) {
    if (!armed) return;
    const bool short_header = !e.bytes.empty() && (e.bytes[0] & 0x80) == 0;
    if (e.kind == WireEvent::Kind::kSent && e.node == &p.client_node() && short_header) {
      if (++client_short % every == 0 && a.injected < max) {
        ++a.injected;
        a.injected_bytes += e.bytes.size();
        p.net().inject(kVictim, p.server_addr, e.bytes, copy_delay);
      }
    }
    if (e.kind == WireEvent::Kind::kSent && e.node == &p.server_node() && e.dst == kVictim) {
      ++a.to_victim;
      a.to_victim_bytes += e.bytes.size();
    }
    if (e.kind == WireEvent::Kind::kDelivered && e.node == &p.server_node()) {
      const bool same = std::equal(e.bytes.begin(), e.bytes.end(), copy.begin(), copy.end());
      if (e.src == kVictim && watch == Watch::kNone) {
        copy.assign(e.bytes.begin(), e.bytes.end());
        watch = Watch::kOriginal;
      } else if (e.src == p.client_addr && watch == Watch::kOriginal && same) {
        watch = Watch::kNext;
      } else if (e.src == p.client_addr && watch == Watch::kNext) {
        watch = Watch::kCheck;
      }
    }
  });
  p.net().on_step([&] {
    if (watch != Watch::kCheck) return;
    watch = Watch::kNone;
    ++a.moved_back_checks;
    if (p.server_conn()->peer_address() != p.client_addr) a.server_stayed_away = true;
  });
  EXPECT_TRUE(p.run_transfers(seconds(60))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  armed = false;
  p.net().run_for(milliseconds(500));
  EXPECT_EQ(p.server_conn()->peer_address(), p.client_addr);
  EXPECT_EQ(p.client_conn()->stats().migrations, 0u);
  summary = p.summary() + " server migrations=" + std::to_string(p.server_conn()->stats().migrations);
  return a;
}

class Spoofing : public ::testing::TestWithParam<std::uint64_t> {};

// The copy arrives 10 ms after the original: a duplicate packet number, dropped before anything
// else happens. The server sends the victim nothing at all.
TEST_P(Spoofing, CopyAfterOriginalIsIgnored) {
  std::string summary;
  const Attack a = run_attack(GetParam(), milliseconds(20), 25, 40, summary);
  EXPECT_EQ(a.injected, 40u) << summary;
  EXPECT_EQ(a.to_victim_bytes, 0u) << summary;
  std::cout << "[ sim      ] late copies: " << a.injected << " replayed (" << a.injected_bytes << " B), "
            << a.to_victim_bytes << " B sent to the victim; " << summary << '\n';
}

// The copy overtakes the original (the attacker is 8 ms closer): the server sees the victim's
// address first. Whatever it sends there stays within 3x what arrived from there, and the real
// client's next packets take the connection back every time.
TEST_P(Spoofing, CopyBeforeOriginalIsContained) {
  std::string summary;
  const Attack a = run_attack(GetParam(), milliseconds(2), 25, 40, summary);
  EXPECT_EQ(a.injected, 40u) << summary;
  EXPECT_LE(a.to_victim_bytes, 3 * a.injected_bytes) << summary;
  EXPECT_GT(a.moved_back_checks, 0u) << summary;
  EXPECT_FALSE(a.server_stayed_away) << summary;
  std::cout << "[ sim      ] early copies: " << a.injected << " replayed (" << a.injected_bytes << " B), "
            << a.to_victim << " datagrams / " << a.to_victim_bytes << " B sent to the victim (limit "
            << 3 * a.injected_bytes << " B); moved back " << a.moved_back_checks << " times; " << summary << '\n';
}

INSTANTIATE_TEST_SUITE_P(Seeds, Spoofing, scenario_seeds(), seed_name);

}  // namespace
}  // namespace roam::sim
