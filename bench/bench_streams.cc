// Stream layer hot paths: a bulk transfer through two StreamManagers (write, pull STREAM frames,
// deliver, acknowledge, read), out-of-order reassembly, and round robin over many streams.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "common/random.h"
#include "streams/recv_buffer.h"
#include "streams/stream_manager.h"

namespace roam::streams {
namespace {

StreamLimits big_limits(std::uint64_t window = 16u << 20) { return {1ull << 40, window, window, window, 100, 100}; }

// One direction of a loss-free transfer, 1200-byte frames, the receiver reading as data arrives.
void BM_StreamTransfer(benchmark::State& state) {
  const std::size_t frame = static_cast<std::size_t>(state.range(0));
  StreamConfig scfg{Side::kServer, big_limits()};
  StreamConfig ccfg{Side::kClient, big_limits()};
  StreamManager server(scfg), client(ccfg);
  (void)server.set_peer_limits(ccfg.local);
  (void)client.set_peer_limits(scfg.local);
  const StreamId id = *server.open_stream(Direction::kUni);
  std::vector<std::uint8_t> app(256 << 10, 0x5a), packet(frame), sink(64 << 10);
  std::uint64_t moved = 0;
  for (auto _ : state) {
    (void)server.write(id, app);
    while (auto f = server.next_stream_frame(frame)) {
      std::memcpy(packet.data(), f->data.data(), f->data.size());  // what the packet builder does
      const Bytes copy(packet.data(), f->data.size());
      const StreamId fid = f->id;
      const std::uint64_t off = f->offset;
      const bool fin = f->fin;
      (void)client.on_stream_frame(fid, off, copy, fin);
      server.on_stream_data_acked(fid, off, copy.size(), fin);
      moved += copy.size();
    }
    while (auto r = client.read(id, sink)) {
      if (r->bytes == 0) break;
    }
    while (auto c = client.pop_control_frame(100, Instant{})) {
      if (auto* msd = std::get_if<MaxStreamDataFrame>(&*c)) (void)server.on_max_stream_data(msd->id, msd->maximum_stream_data);
      if (auto* md = std::get_if<MaxDataFrame>(&*c)) server.on_max_data(md->maximum_data);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(moved));
}
BENCHMARK(BM_StreamTransfer)->Arg(1200)->Arg(1452);

// Reassembly of 1200-byte pieces arriving in a shuffled order within a 1 MB window.
void BM_RecvReassemblyShuffled(benchmark::State& state) {
  constexpr std::size_t kPiece = 1200, kPieces = 1024;
  std::vector<std::uint8_t> data(kPiece, 0xab), out(64 << 10);
  std::vector<std::size_t> order(kPieces);
  for (std::size_t i = 0; i < kPieces; ++i) order[i] = i;
  SeededRandom rng(1);
  for (std::size_t i = kPieces; i > 1; --i) std::swap(order[i - 1], order[rng.uniform(i)]);
  std::uint64_t base = 0;
  RecvBuffer b;
  for (auto _ : state) {
    for (std::size_t i : order) (void)b.insert(base + i * kPiece, data, false);
    while (b.read(out) > 0) {
    }
    base += kPiece * kPieces;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPiece * kPieces));
}
BENCHMARK(BM_RecvReassemblyShuffled);

// Pulling frames round robin from many streams with data.
void BM_RoundRobinManyStreams(benchmark::State& state) {
  const int streams = static_cast<int>(state.range(0));
  StreamConfig ccfg{Side::kClient, big_limits()};
  StreamLimits peer = big_limits(1ull << 40);  // never stream-blocked however long it runs
  peer.max_streams_bidi = static_cast<std::uint64_t>(streams);
  StreamManager client(ccfg);
  (void)client.set_peer_limits(peer);
  std::vector<StreamId> ids;
  for (int i = 0; i < streams; ++i) ids.push_back(*client.open_stream(Direction::kBidi));
  std::vector<std::uint8_t> chunk(4800, 1);
  std::uint64_t frames = 0;
  for (auto _ : state) {
    for (StreamId id : ids) (void)client.write(id, chunk);
    while (auto f = client.next_stream_frame(1200)) {
      client.on_stream_data_acked(f->id, f->offset, f->data.size(), f->fin);
      ++frames;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
}
BENCHMARK(BM_RoundRobinManyStreams)->Arg(10)->Arg(1000);

}  // namespace
}  // namespace roam::streams

BENCHMARK_MAIN();
