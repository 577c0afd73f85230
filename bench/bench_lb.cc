// QUIC-LB costs per datagram at the load balancer: decoding the server ID of a CID for each
// algorithm (plaintext; single-pass AES; four-pass with 3 decode passes when the server ID is no
// longer than the nonce, and with 4 when it is longer), the full decrypt a server does, encoding a
// CID, a whole routing decision (short header with a routable CID; unroutable Initial through the
// keyed rendezvous fallback), and the encapsulation header. Time per operation is in ns.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/random.h"
#include "lb/codec.h"
#include "lb/encap.h"
#include "lb/generator.h"
#include "lb/router.h"

namespace {

using namespace roam;
using namespace roam::lb;

constexpr Key kKey = {0x8f, 0x95, 0xf0, 0x92, 0x45, 0x76, 0x5f, 0x80, 0x25, 0x69, 0x34, 0xe5, 0x0c, 0x66, 0x20, 0x7f};

Config config(std::size_t sid, std::size_t nonce, bool key) {
  Config c;
  c.id = 1;
  c.server_id_len = sid;
  c.nonce_len = nonce;
  if (key) c.key = kKey;
  return c;
}

template <class T, class E>
T must(Result<T, E> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "bench_lb: setup failed\n");
    std::abort();
  }
  return std::move(r.value());
}

// 64 different CIDs of one config, so the branch predictor does not learn one input.
std::vector<ConnectionId> cids_for(const CidCodec& codec) {
  SeededRandom rng(1);
  std::vector<ConnectionId> out;
  const Config& c = codec.config();
  for (int i = 0; i < 64; ++i) {
    std::uint8_t sid[kMaxServerIdLen], nonce[kMaxNonceLen];
    rng.fill(MutBytes(sid, c.server_id_len));
    rng.fill(MutBytes(nonce, c.nonce_len));
    out.push_back(must(codec.encode(Bytes(sid, c.server_id_len), Bytes(nonce, c.nonce_len))));
  }
  return out;
}

// args: server ID length, nonce length, key (0/1)
void BM_DecodeServerId(benchmark::State& state) {
  const CidCodec codec =
      must(CidCodec::create(config(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                                   state.range(2) != 0)));
  const auto cids = cids_for(codec);
  std::size_t i = 0;
  for (auto _ : state) {
    auto sid = codec.server_id(cids[i++ & 63].bytes());
    benchmark::DoNotOptimize(sid);
  }
  state.SetLabel(std::string(to_string(codec.algorithm())));
}
BENCHMARK(BM_DecodeServerId)
    ->ArgNames({"sid", "nonce", "key"})
    ->Args({3, 4, 0})    // plaintext
    ->Args({8, 8, 1})    // single pass
    ->Args({3, 4, 1})    // four-pass, 3 passes (server ID <= nonce)
    ->Args({4, 8, 1})    // four-pass, 3 passes, even length
    ->Args({10, 5, 1})   // four-pass, 4 passes (server ID > nonce)
    ->Args({9, 9, 1});   // four-pass, 3 passes, longest odd length

void BM_DecryptFull(benchmark::State& state) {
  const CidCodec codec =
      must(CidCodec::create(config(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                                   state.range(2) != 0)));
  const auto cids = cids_for(codec);
  std::size_t i = 0;
  for (auto _ : state) {
    auto plain = codec.decrypt(cids[i++ & 63].bytes());
    benchmark::DoNotOptimize(plain);
  }
  state.SetLabel(std::string(to_string(codec.algorithm())));
}
BENCHMARK(BM_DecryptFull)->ArgNames({"sid", "nonce", "key"})->Args({8, 8, 1})->Args({3, 4, 1})->Args({10, 5, 1});

void BM_Encode(benchmark::State& state) {
  const CidCodec codec =
      must(CidCodec::create(config(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                                   state.range(2) != 0)));
  std::uint8_t sid[kMaxServerIdLen] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, nonce[kMaxNonceLen] = {};
  const Config& c = codec.config();
  for (auto _ : state) {
    ++nonce[0];
    auto cid = codec.encode(Bytes(sid, c.server_id_len), Bytes(nonce, c.nonce_len));
    benchmark::DoNotOptimize(cid);
  }
  state.SetLabel(std::string(to_string(codec.algorithm())));
}
BENCHMARK(BM_Encode)->ArgNames({"sid", "nonce", "key"})->Args({3, 4, 0})->Args({8, 8, 1})->Args({3, 4, 1});

// The server's side: one routable CID (nonce permutation + encryption).
void BM_GeneratorGenerate(benchmark::State& state) {
  SeededRandom rng(2);
  const std::uint8_t host[] = {0x0a, 0x01};
  auto gen = must(RoutableCidGenerator::create(config(3, 5, true), host, 1, rng));
  for (auto _ : state) {
    auto cid = gen->generate(rng);
    benchmark::DoNotOptimize(cid);
  }
}
BENCHMARK(BM_GeneratorGenerate);

Router router_with(int backends) {
  Settings s;
  s.configs = {config(3, 5, true)};
  for (int i = 0; i < backends; ++i) {
    const std::uint8_t id[2] = {static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
    s.backends.push_back({ServerId(Bytes(id, 2)), SocketAddress::from_ipv4({10, 0, static_cast<std::uint8_t>(i >> 8),
                                                                            static_cast<std::uint8_t>(i)},
                                                                           4433)});
  }
  return must(Router::create(s));
}

// A 1-RTT packet whose CID names one of `backends` backends.
void BM_RouteShortHeader(benchmark::State& state) {
  const Router r = router_with(static_cast<int>(state.range(0)));
  SeededRandom rng(3);
  std::vector<std::vector<std::uint8_t>> packets;
  for (int i = 0; i < 64; ++i) {
    const std::uint8_t sid[3] = {0, static_cast<std::uint8_t>(i % state.range(0)), 7};
    std::uint8_t nonce[5];
    rng.fill(nonce);
    const ConnectionId cid = must(r.codec(1)->encode(Bytes(sid, 3), nonce));
    std::vector<std::uint8_t> p(1 + cid.size() + 1100, 0x55);
    p[0] = 0x41;
    std::copy(cid.data(), cid.data() + cid.size(), p.begin() + 1);
    packets.push_back(std::move(p));
  }
  const SocketAddress client = SocketAddress::from_ipv4({198, 51, 100, 1}, 40000);
  const SocketAddress listen = SocketAddress::from_ipv4({203, 0, 113, 1}, 443);
  std::size_t i = 0;
  for (auto _ : state) {
    const Route route = r.route(packets[i++ & 63], client, listen);
    benchmark::DoNotOptimize(route);
  }
}
BENCHMARK(BM_RouteShortHeader)->ArgName("backends")->Arg(2)->Arg(64);

// A client's first Initial: unroutable, the rendezvous hash over all backends.
void BM_RouteUnroutableInitial(benchmark::State& state) {
  const Router r = router_with(static_cast<int>(state.range(0)));
  SeededRandom rng(4);
  std::vector<std::vector<std::uint8_t>> packets;
  for (int i = 0; i < 64; ++i) {
    std::vector<std::uint8_t> p(1200, 0);
    p[0] = 0xc3;
    p[4] = 1;
    p[5] = 8;
    rng.fill(MutBytes(p.data() + 6, 8));
    p[6] |= 0xe0;
    packets.push_back(std::move(p));
  }
  const SocketAddress client = SocketAddress::from_ipv4({198, 51, 100, 1}, 40000);
  const SocketAddress listen = SocketAddress::from_ipv4({203, 0, 113, 1}, 443);
  std::size_t i = 0;
  for (auto _ : state) {
    const Route route = r.route(packets[i++ & 63], client, listen);
    benchmark::DoNotOptimize(route);
  }
}
BENCHMARK(BM_RouteUnroutableInitial)->ArgName("backends")->Arg(2)->Arg(64);

void BM_EncapRoundTrip(benchmark::State& state) {
  const EncapHeader h{SocketAddress::from_ipv4({198, 51, 100, 1}, 40000), SocketAddress::from_ipv4({203, 0, 113, 1}, 443)};
  std::vector<std::uint8_t> payload(1200, 0x41), out(1200 + kEncapMaxHeaderSize);
  for (auto _ : state) {
    auto n = encapsulate(h, payload, out);
    auto d = decode_encap(Bytes(out.data(), *n));
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_EncapRoundTrip);

}  // namespace

BENCHMARK_MAIN();
