// Packet protection cost per algorithm and backend: AEAD seal/open throughput at QUIC packet
// sizes, header protection masks, whole-packet seal_packet/open, and key derivation. The numbers
// feed choose_backend() in src/crypto/algorithms.cc and the table in docs/crypto.md.
//
//   build-*/bench/bench_crypto --benchmark_min_time=0.2
//   (--benchmark_filter=seal/ etc. to narrow; run a few times, the machine is shared)
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/random.h"
#include "crypto/aead.h"
#include "crypto/header_protection.h"
#include "crypto/key_update.h"
#include "crypto/packet_keys.h"
#include "crypto/packet_protection.h"

namespace {

using roam::Bytes;
using roam::MutBytes;
using namespace roam::crypto;

constexpr AeadAlgorithm kAlgorithms[] = {AeadAlgorithm::kAes128Gcm, AeadAlgorithm::kAes256Gcm,
                                         AeadAlgorithm::kChaCha20Poly1305};
constexpr Backend kBackends[] = {Backend::kGnuTls, Backend::kOpenSsl};

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  roam::SeededRandom rng(seed);
  std::vector<std::uint8_t> v(n);
  rng.fill(v);
  return v;
}

std::unique_ptr<Aead> aead_or_skip(benchmark::State& state, AeadAlgorithm a, Backend b) {
  auto aead = make_aead(a, random_bytes(aead_key_size(a), 1), b);
  if (!aead) {
    state.SkipWithError("make_aead failed");
    return nullptr;
  }
  return std::move(aead.value());
}

// In-place seal of `size` bytes with a 20-byte AAD (a typical short header), new nonce each time.
void seal(benchmark::State& state, AeadAlgorithm a, Backend b, std::size_t size) {
  auto aead = aead_or_skip(state, a, b);
  if (!aead) return;
  const auto aad = random_bytes(20, 2);
  auto buf = random_bytes(size + kAeadTagSize, 3);
  auto nonce = random_bytes(kAeadNonceSize, 4);
  std::uint64_t pn = 0;
  for (auto _ : state) {
    std::memcpy(nonce.data() + 4, &++pn, sizeof(pn));
    if (!aead->seal(Nonce(nonce.data(), kAeadNonceSize), aad, Bytes(buf).first(size), buf)) {
      state.SkipWithError("seal failed");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

// Out-of-place seal: the other API path of each library, for comparison with the in-place one.
void seal_out_of_place(benchmark::State& state, AeadAlgorithm a, Backend b, std::size_t size) {
  auto aead = aead_or_skip(state, a, b);
  if (!aead) return;
  const auto aad = random_bytes(20, 2);
  const auto pt = random_bytes(size, 3);
  std::vector<std::uint8_t> out(size + kAeadTagSize);
  auto nonce = random_bytes(kAeadNonceSize, 4);
  std::uint64_t pn = 0;
  for (auto _ : state) {
    std::memcpy(nonce.data() + 4, &++pn, sizeof(pn));
    if (!aead->seal(Nonce(nonce.data(), kAeadNonceSize), aad, pt, out)) {
      state.SkipWithError("seal failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

// In-place open; each iteration first restores the ciphertext (a memcpy of size+16 bytes, a few
// tens of ns at packet sizes, included in the time).
void open(benchmark::State& state, AeadAlgorithm a, Backend b, std::size_t size) {
  auto aead = aead_or_skip(state, a, b);
  if (!aead) return;
  const auto aad = random_bytes(20, 2);
  const auto nonce = random_bytes(kAeadNonceSize, 4);
  std::vector<std::uint8_t> sealed(size + kAeadTagSize);
  if (!aead->seal(Nonce(nonce.data(), kAeadNonceSize), aad, random_bytes(size, 3), sealed)) {
    state.SkipWithError("seal failed");
    return;
  }
  std::vector<std::uint8_t> buf(sealed.size());
  for (auto _ : state) {
    std::memcpy(buf.data(), sealed.data(), sealed.size());
    if (!aead->open(Nonce(nonce.data(), kAeadNonceSize), aad, buf, buf)) {
      state.SkipWithError("open failed");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void hp_mask(benchmark::State& state, AeadAlgorithm a, Backend b) {
  auto hp = make_header_protector(a, random_bytes(hp_key_size(a), 5), b);
  if (!hp) {
    state.SkipWithError("make_header_protector failed");
    return;
  }
  auto sample = random_bytes(kHpSampleSize, 6);
  HpMask mask{};
  for (auto _ : state) {
    if (!(*hp)->mask(HpSample(sample.data(), kHpSampleSize), mask)) {
      state.SkipWithError("mask failed");
      break;
    }
    sample[0] ^= mask[0];  // a dependency chain, like consecutive packets
    benchmark::DoNotOptimize(mask);
  }
}

// A 1-RTT packet: 1 + 8-byte DCID + 2-byte PN header, payload filling `size` bytes on the wire.
struct ShortPacket {
  std::vector<std::uint8_t> buf;
  std::size_t pn_offset = 9;
  std::size_t pn_len = 2;
  std::size_t payload_len;

  explicit ShortPacket(std::size_t size) : buf(random_bytes(size, 7)), payload_len(size - 9 - 2 - kAeadTagSize) {}
  void write_header(std::uint64_t pn) {
    buf[0] = 0x41;
    buf[9] = static_cast<std::uint8_t>(pn >> 8);
    buf[10] = static_cast<std::uint8_t>(pn);
  }
};

PacketKeys keys_or_skip(benchmark::State& state, AeadAlgorithm a, Backend b) {
  auto keys = derive_packet_keys(a, random_bytes(hash_size(aead_hash(a)), 8), b);
  if (!keys) {
    state.SkipWithError("derive_packet_keys failed");
    return {};
  }
  return std::move(keys.value());
}

// seal_packet on a full-size datagram: checks, nonce, AEAD in place, mask, header XOR.
void seal_packet_bench(benchmark::State& state, AeadAlgorithm a, Backend b, std::size_t size) {
  const PacketKeys keys = keys_or_skip(state, a, b);
  if (!keys.valid()) return;
  ShortPacket p(size);
  std::uint64_t pn = 0;
  for (auto _ : state) {
    p.write_header(++pn);
    const std::size_t n = seal_packet(keys, p.buf, p.pn_offset, p.pn_len, pn, p.payload_len);
    if (n != size) {
      state.SkipWithError("seal_packet failed");
      break;
    }
    benchmark::DoNotOptimize(p.buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

// remove_header_protection + decrypt_payload (after restoring the protected bytes, a memcpy).
void open_packet_bench(benchmark::State& state, AeadAlgorithm a, Backend b, std::size_t size) {
  const PacketKeys keys = keys_or_skip(state, a, b);
  if (!keys.valid()) return;
  ShortPacket p(size);
  p.write_header(1000);
  if (seal_packet(keys, p.buf, p.pn_offset, p.pn_len, 1000, p.payload_len) != size) {
    state.SkipWithError("seal_packet failed");
    return;
  }
  const std::vector<std::uint8_t> sealed = p.buf;
  for (auto _ : state) {
    std::memcpy(p.buf.data(), sealed.data(), sealed.size());
    auto h = remove_header_protection(*keys.header_protector, p.buf, p.pn_offset, 999, true);
    if (!h || !decrypt_payload(keys, p.buf, h->header_len, h->packet_number)) {
      state.SkipWithError("open failed");
      break;
    }
    benchmark::DoNotOptimize(p.buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

// Deriving one direction's keys (key, iv, hp; two library contexts): the cost of a new epoch.
void derive_keys_bench(benchmark::State& state, AeadAlgorithm a, Backend b) {
  const auto secret = random_bytes(hash_size(aead_hash(a)), 9);
  for (auto _ : state) {
    auto keys = derive_packet_keys(a, secret, b);
    if (!keys) {
      state.SkipWithError("derive failed");
      break;
    }
    benchmark::DoNotOptimize(keys->aead.get());
  }
}

std::string name(const char* what, AeadAlgorithm a, Backend b) {
  return std::string(what) + "/" + std::string(to_string(a)) + "/" + std::string(to_string(b));
}

void register_all() {
  for (AeadAlgorithm a : kAlgorithms) {
    for (Backend b : kBackends) {
      for (std::size_t size : {1200u, 1350u, 16384u}) {
        benchmark::RegisterBenchmark((name("seal", a, b) + "/" + std::to_string(size)).c_str(), seal, a, b, size);
      }
      for (std::size_t size : {1350u, 16384u}) {
        benchmark::RegisterBenchmark((name("open", a, b) + "/" + std::to_string(size)).c_str(), open, a, b, size);
      }
      benchmark::RegisterBenchmark((name("seal_out_of_place", a, b) + "/1350").c_str(), seal_out_of_place, a, b,
                                   std::size_t{1350});
      benchmark::RegisterBenchmark(name("hp_mask", a, b).c_str(), hp_mask, a, b);
      benchmark::RegisterBenchmark((name("seal_packet", a, b) + "/1350").c_str(), seal_packet_bench, a, b,
                                   std::size_t{1350});
      benchmark::RegisterBenchmark((name("open_packet", a, b) + "/1350").c_str(), open_packet_bench, a, b,
                                   std::size_t{1350});
      benchmark::RegisterBenchmark(name("derive_packet_keys", a, b).c_str(), derive_keys_bench, a, b);
    }
    // What the factory picks (AEAD and header protection chosen separately).
    benchmark::RegisterBenchmark((name("seal_packet", a, Backend::kAuto) + "/1350").c_str(), seal_packet_bench, a,
                                 Backend::kAuto, std::size_t{1350});
    benchmark::RegisterBenchmark((name("open_packet", a, Backend::kAuto) + "/1350").c_str(), open_packet_bench, a,
                                 Backend::kAuto, std::size_t{1350});
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
