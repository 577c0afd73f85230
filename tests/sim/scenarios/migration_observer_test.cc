// What an observer of the network sees during migrations (roam issue 4, scenarios 8 and 11).
//
// Unlinkability (RFC 9000 9.5): every short-header datagram is recorded with its 4-tuple and
// Destination Connection ID; no DCID may appear on two 4-tuples. The one exception the RFC
// allows is a NAT rebinding: the client does not know its address changed, so it keeps sending
// with the same DCID from what the server sees as a new port (9.5 lets an endpoint keep a CID on
// a new remote address it did not choose). The server, which does know, moves to a fresh CID for
// the new address whenever the client gave it a spare one, so its direction stays unlinkable.
//
// The checks of the QUIC interop runner's migration tests, on decrypted packets (the client's
// key log, as the runner decrypts its pcaps): the server's first packet on a new path carries
// PATH_CHALLENGE; the client's first packet on each new path (its probe) uses a DCID it never
// used before; every datagram carrying PATH_CHALLENGE or PATH_RESPONSE is expanded to at least
// 1200 bytes unless the sender's anti-amplification limit on that path forbids it.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "migration_util.h"
#include "seeds.h"
#include "wire/frames.h"

namespace roam::sim {
namespace {

namespace ft = wire::frame_type;

bool is_probe(const ObservedPacket& p) { return p.has_frame(ft::kPathChallenge) || p.has_frame(ft::kPathResponse); }

// DCIDs seen on more than one 4-tuple, one line each ("" if none). `allow` may excuse a pair of
// 4-tuples (the NAT exception).
std::string linkable(const std::vector<ObservedPacket>& packets, const Node& server,
                     const std::function<bool(const PathKey&, const PathKey&, bool from_server)>& allow) {
  std::map<std::string, std::set<PathKey>> seen;
  std::map<std::string, bool> from_server;
  for (const auto& p : packets) {
    if (p.delivered || !p.node || !p.short_header) continue;
    seen[p.dcid.hex()].insert(p.path());
    from_server[p.dcid.hex()] = p.node == &server;
  }
  std::string out;
  for (const auto& [dcid, paths] : seen) {
    if (paths.size() < 2) continue;
    const PathKey& first = *paths.begin();
    bool excused = true;
    for (const auto& k : paths) excused = excused && (k == first || allow(first, k, from_server[dcid]));
    if (excused) continue;
    out += dcid + (from_server[dcid] ? " (server->client) on" : " (client->server) on");
    for (const auto& k : paths) out += ' ' + k.to_string();
    out += '\n';
  }
  return out;
}

// The interop runner's checks over a decrypted record; returns the violations, one per line.
std::string runner_checks(const std::vector<ObservedPacket>& packets, const Node& client, const Node& server,
                          bool nat_rebinding) {
  std::string out;
  std::map<std::string, PathKey> client_dcid_tuple;  // where the client first used each DCID
  std::set<std::pair<PathKey, std::string>> episodes;  // (4-tuple, DCID) of each client probe run
  std::set<PathKey> server_paths_seen;
  std::set<PathKey> awaiting_server_challenge;  // new paths whose first server packet is due
  std::map<PathKey, std::uint64_t> to_server, from_server;  // per path episode
  bool first_server_packet = true;
  for (const auto& p : packets) {
    const PathKey k = p.path();
    if (p.delivered) {
      if (p.node == &server) to_server[k] += p.datagram_size;
      continue;
    }
    if (p.node == &client && p.short_header) {
      const std::string dcid = p.dcid.hex();
      if (p.decrypted && p.has_frame(ft::kPathChallenge) && episodes.insert({k, dcid}).second) {
        // A client probe opens a new path episode: a DCID it never used elsewhere, and the
        // server's first packet back must validate the client's address.
        if (auto it = client_dcid_tuple.find(dcid); it != client_dcid_tuple.end() && !(it->second == k)) {
          out += "client probe on " + k.to_string() + " reuses " + dcid + " from " + it->second.to_string() + "\n";
        }
        awaiting_server_challenge.insert(k);
        to_server[k] = 0;
        from_server[k] = 0;
      }
      client_dcid_tuple.try_emplace(dcid, k);
    }
    // A short-header datagram that does not decrypt is a stateless reset (accounted for by the
    // caller), not a packet of the connection.
    if (p.node == &server && p.short_header && p.decrypted) {
      if (nat_rebinding && !first_server_packet && !server_paths_seen.count(k)) {
        awaiting_server_challenge.insert(k);  // a rebinding: the server found the new address itself
      }
      if (awaiting_server_challenge.erase(k) && !(p.decrypted && p.has_frame(ft::kPathChallenge))) {
        out += "server's first packet on " + k.to_string() + " has no PATH_CHALLENGE\n";
      }
      server_paths_seen.insert(k);
      first_server_packet = false;
    }
    if (p.decrypted && is_probe(p) && p.datagram_size < 1200) {
      // Only the server is limited (a client's own new address is not), and only by 3x what
      // it received on the path so far.
      const bool limited = p.node == &server && from_server[k] + 1200 > 3 * to_server[k];
      if (!limited) {
        out += std::string(p.node == &server ? "server" : "client") + " probe of " + std::to_string(p.datagram_size) +
               " B on " + k.to_string() + "\n";
      }
    }
    if (p.node == &server) from_server[k] += p.datagram_size;
  }
  for (const auto& k : awaiting_server_challenge) out += "server never answered on " + k.to_string() + "\n";
  return out;
}

std::size_t count_decrypted(const std::vector<ObservedPacket>& packets) {
  std::size_t n = 0;
  for (const auto& p : packets) n += p.decrypted;
  return n;
}

class Observer : public ::testing::TestWithParam<std::uint64_t> {};

// Preferred address after the handshake, then validate-then-switch to LTE, switch-now back to
// Wi-Fi, and LTE once more, during a download.
TEST_P(Observer, NoCidOnTwoPathsAndRunnerChecks) {
  KeyloggingClientTls keylog;
  PairOptions o;
  o.seed = GetParam();
  o.client_tls = keylog.context();
  o.server.preferred_address_v4 = kServerAddr2;
  o.up.delay = o.down.delay = milliseconds(10);
  o.up.rate_bytes_per_s = o.down.rate_bytes_per_s = 20'000'000 / 8;
  o.down.loss = 0.002;
  Pair p(o);
  LinkConfig lte;
  lte.delay = milliseconds(30);
  lte.rate_bytes_per_s = 20'000'000 / 8;
  lte.loss = 0.002;
  p.add_server_address(kServerAddr2, o.up, o.down);
  p.add_client_address(kLteAddr, lte, lte);
  WireObserver obs(p.net(), p.server_node());
  keylog.give_keys(obs);
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  const std::size_t i = p.app().add(Op::kDownload, 4'000'000, 13000 + GetParam(), p.net().now());
  auto validated = [&] { return events_of<conn::PathValidated>(p.app().path_events()).size(); };
  ASSERT_TRUE(p.net().run_until([&] { return p.client_conn()->peer_address() == kServerAddr2; }, seconds(5)));
  auto* c = p.client_conn();
  // Validate-then-switch to LTE.
  p.net().run_for(milliseconds(300));
  std::size_t v = validated();
  auto lte_path = c->probe_path(kLteAddr, p.net().now());
  ASSERT_TRUE(lte_path.ok()) << lte_path.error().reason;
  ASSERT_TRUE(p.net().run_until([&] { return validated() > v; }, seconds(5)));
  ASSERT_TRUE(c->migrate(*lte_path, p.net().now()).ok());
  // Switch-now back to Wi-Fi.
  p.net().run_for(milliseconds(300));
  auto wifi_path = c->probe_path(p.client_addr, p.net().now());
  ASSERT_TRUE(wifi_path.ok()) << wifi_path.error().reason;
  ASSERT_TRUE(c->migrate(*wifi_path, p.net().now()).ok());
  // And LTE once more.
  p.net().run_for(milliseconds(300));
  v = validated();
  lte_path = c->probe_path(kLteAddr, p.net().now());
  ASSERT_TRUE(lte_path.ok()) << lte_path.error().reason;
  ASSERT_TRUE(p.net().run_until([&] { return validated() > v; }, seconds(5)));
  ASSERT_TRUE(c->migrate(*lte_path, p.net().now()).ok());
  ASSERT_FALSE(p.app().transfers()[i].done) << "every migration should happen mid-transfer";
  ASSERT_TRUE(p.run_transfers(seconds(60))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  EXPECT_EQ(c->stats().migrations, 4u) << describe(p.app().path_events());

  // The observer decrypted everything but stateless resets: the checks below are about real
  // frames. (Resets happen when the server retires the CID of a path it left while packets
  // with that CID are still in flight there: the client's endpoint no longer knows the CID and
  // answers them; the server's endpoint answers that reset with a smaller one, and so on.)
  const std::uint64_t resets =
      p.client_ep().stats().stateless_resets_sent + p.server_ep().stats().stateless_resets_sent;
  EXPECT_LE(obs.decrypt_failures(), resets);  // resets under 29 bytes do not even parse as packets
  EXPECT_GT(count_decrypted(obs.packets()), 1000u);
  const std::string links = linkable(obs.packets(), p.server_node(), [](const PathKey&, const PathKey&, bool) { return false; });
  EXPECT_TRUE(links.empty()) << links;
  const std::string runner = runner_checks(obs.packets(), p.client_node(), p.server_node(), false);
  EXPECT_TRUE(runner.empty()) << runner;
  std::set<PathKey> tuples;
  for (const auto& pk : obs.packets()) tuples.insert(pk.path());
  std::cout << "[ sim      ] " << obs.packets().size() << " datagrams on " << tuples.size() << " 4-tuples, "
            << count_decrypted(obs.packets()) << " decrypted, " << resets << " stateless resets; " << p.summary() << '\n';
}

// Behind a NAT that rebinds twice: the client's DCID shows up on the old and the new outside
// port (the exception), the server's never does, and the server challenges each new address.
TEST_P(Observer, NatRebindingException) {
  KeyloggingClientTls keylog;
  PairOptions o;
  o.seed = GetParam();
  o.client_tls = keylog.context();
  o.client.keep_alive = milliseconds(500);
  LinkConfig l;
  l.delay = milliseconds(15);
  l.rate_bytes_per_s = 10'000'000 / 8;  // 3 MB take over two seconds: both rebinds are mid-transfer
  l.queue_bytes = 60'000;
  l.loss = 0.002;
  Pair p(o);
  const SocketAddress outside = *SocketAddress::parse("198.51.100.7:61000");
  Nat& nat = p.net().add_nat(p.client_addr, outside);
  p.net().connect(outside, p.server_addr, l);
  WireObserver obs(p.net(), p.server_node());
  keylog.give_keys(obs);
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  const std::size_t i = p.app().add(Op::kDownload, 3'000'000, 14000 + GetParam(), p.net().now());
  p.net().after(milliseconds(300), [&nat] { nat.rebind_port(61001); });
  p.net().after(milliseconds(700), [&nat] { nat.rebind_port(61002); });
  ASSERT_TRUE(p.run_transfers(seconds(60))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  EXPECT_GT(p.app().transfers()[i].finished_at - p.app().transfers()[i].opened_at, seconds(1));
  EXPECT_EQ(p.server_conn()->stats().nat_rebindings, 2u);

  const auto nat_only = [&](const PathKey& a, const PathKey& b, bool from_server) {
    // Client to server only, and the two 4-tuples differ in nothing but the NAT's port.
    const auto strip = [&](const PathKey& k) { return PathKey::of(k.a.same_ip(outside) ? k.a.with_port(0) : k.a,
                                                                   k.b.same_ip(outside) ? k.b.with_port(0) : k.b); };
    return !from_server && strip(a) == strip(b);
  };
  const std::string links = linkable(obs.packets(), p.server_node(), nat_only);
  EXPECT_TRUE(links.empty()) << links;
  // The exception is used: some client DCID spans a rebinding.
  const std::string strict = linkable(obs.packets(), p.server_node(), [](const PathKey&, const PathKey&, bool) { return false; });
  EXPECT_FALSE(strict.empty());
  const std::string runner = runner_checks(obs.packets(), p.client_node(), p.server_node(), true);
  EXPECT_TRUE(runner.empty()) << runner;
}

INSTANTIATE_TEST_SUITE_P(Seeds, Observer, scenario_seeds(), seed_name);

}  // namespace
}  // namespace roam::sim
