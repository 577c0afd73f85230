// Two StreamManagers talking through a lossy, reordering "network" made of the frames they hand
// out: end-to-end checks of stream limits, flow control and retransmission working together.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <vector>

#include "common/random.h"
#include "manager_harness.h"
#include "streams/stream_manager.h"
#include "test_util.h"

namespace roam::streams {
namespace {

using test::Packet;

class Network {
 public:
  Network(StreamManager& client, StreamManager& server, std::uint64_t seed, double loss)
      : client_(client), server_(server), rng_(seed), loss_permille_(static_cast<std::uint64_t>(loss * 1000)) {}

  // One round: each side sends up to `burst` packets; the batch is delivered in a shuffled order,
  // each packet lost with the configured probability; senders learn the fate at once.
  void round(std::size_t burst = 32) {
    now_ += std::chrono::milliseconds(1);
    std::vector<std::pair<bool, Packet>> batch;  // (from client, packet)
    for (bool from_client : {true, false}) {
      StreamManager& m = from_client ? client_ : server_;
      for (std::size_t i = 0; i < burst; ++i) {
        Packet p = test::build_packet(m, 1200, now_);
        if (p.empty()) break;
        for (const auto& f : p.control) {
          ++control_sent_[frame_type(f)];
        }
        batch.emplace_back(from_client, std::move(p));
      }
    }
    for (std::size_t i = batch.size(); i > 1; --i) std::swap(batch[i - 1], batch[rng_.uniform(i)]);
    for (auto& [from_client, p] : batch) {
      StreamManager& from = from_client ? client_ : server_;
      StreamManager& to = from_client ? server_ : client_;
      if (rng_.uniform(1000) < loss_permille_) {
        ++lost_;
        test::lose(from, p);
        continue;
      }
      Status s = test::deliver(to, p);
      ASSERT_TRUE(s) << s.error().reason;
      test::ack(from, p);
    }
    idle_ = batch.empty();
  }

  bool idle() const { return idle_; }
  std::uint64_t control_sent(std::uint64_t type) const {
    auto it = control_sent_.find(type);
    return it == control_sent_.end() ? 0 : it->second;
  }
  std::uint64_t lost() const { return lost_; }
  Instant now() const { return now_; }

 private:
  StreamManager& client_;
  StreamManager& server_;
  SeededRandom rng_;
  std::uint64_t loss_permille_;
  Instant now_{};
  std::map<std::uint64_t, std::uint64_t> control_sent_;
  std::uint64_t lost_ = 0;
  bool idle_ = false;
};

// Reads everything readable on `id` into `sink`; returns true at the end of the stream.
bool drain(StreamManager& m, StreamId id, std::vector<std::uint8_t>& sink) {
  std::uint8_t buf[4096];
  while (true) {
    auto r = m.read(id, buf);
    if (!r) return false;
    sink.insert(sink.end(), buf, buf + r->bytes);
    if (r->fin) return true;
    if (r->bytes == 0) return false;
  }
}

struct RequestResponseParams {
  std::uint64_t seed;
  double loss;
  Direction dir;
};

class ManyStreams : public ::testing::TestWithParam<RequestResponseParams> {};

// 1000 request/response exchanges with only 8 streams allowed at a time: MAX_STREAMS must keep
// being replenished as streams close, and every stream must be freed on both sides.
TEST_P(ManyStreams, ThousandStreamsWithMaxStreamsReplenishment) {
  const auto param = GetParam();
  constexpr int kStreams = 1000;
  constexpr std::uint64_t kConcurrent = 8;
  StreamManager client(test::config(Side::kClient, test::limits(1 << 20, 1 << 16, 0)));
  StreamManager server(test::config(Side::kServer, test::limits(1 << 20, 1 << 16, kConcurrent)));
  ASSERT_TRUE(client.set_peer_limits(test::limits(1 << 20, 1 << 16, kConcurrent)));
  ASSERT_TRUE(server.set_peer_limits(test::limits(1 << 20, 1 << 16, 0)));
  Network net(client, server, param.seed, param.loss);

  const bool bidi = param.dir == Direction::kBidi;
  int opened = 0, done = 0, refused = 0;
  std::map<std::uint64_t, std::vector<std::uint8_t>> server_in, client_in;
  for (int round = 0; round < 20000 && done < kStreams; ++round) {
    // Client: open as many streams as allowed, each with a 300-byte request.
    while (opened < kStreams) {
      auto id = client.open_stream(param.dir);
      if (!id) {
        EXPECT_EQ(id.error().code, TransportError::kStreamLimitError);
        ++refused;
        break;
      }
      ++opened;
      ASSERT_EQ(*client.write(*id, test::pattern(id->value, 300), true), 300u);
    }
    net.round();
    ASSERT_LE(server.stream_count(), kConcurrent);
    // Server: read requests; answer on bidi streams with 2000 bytes.
    while (auto e = server.poll_event()) {
      if (e->kind != StreamEvent::Kind::kReadable) continue;
      auto& in = server_in[e->id.value];
      if (!drain(server, e->id, in)) continue;
      ASSERT_EQ(in.size(), 300u);
      ASSERT_TRUE(test::matches_pattern(e->id.value, in));
      server_in.erase(e->id.value);
      if (bidi) {
        ASSERT_EQ(*server.write(e->id, test::pattern(e->id.value * 7, 2000), true), 2000u);
      } else {
        ++done;
      }
    }
    while (auto e = client.poll_event()) {
      if (e->kind != StreamEvent::Kind::kReadable) continue;
      auto& in = client_in[e->id.value];
      if (!drain(client, e->id, in)) continue;
      ASSERT_EQ(in.size(), 2000u);
      ASSERT_TRUE(test::matches_pattern(e->id.value * 7, in));
      client_in.erase(e->id.value);
      ++done;
    }
  }
  // Let the last acknowledgements and frames settle.
  for (int i = 0; i < 200 && !(net.idle() && client.stream_count() == 0 && server.stream_count() == 0); ++i) {
    net.round();
  }
  EXPECT_EQ(done, kStreams);
  EXPECT_EQ(client.stream_count(), 0u);
  EXPECT_EQ(server.stream_count(), 0u);
  EXPECT_GT(refused, 0);
  EXPECT_EQ(server.peer_streams_opened(param.dir), static_cast<std::uint64_t>(kStreams));
  // The window of concurrently open peer streams stayed at kConcurrent.
  EXPECT_EQ(server.max_streams_advertised(param.dir), kStreams + kConcurrent);
  EXPECT_EQ(client.peer_max_streams(param.dir), kStreams + kConcurrent);
  EXPECT_GT(net.control_sent(bidi ? kFrameMaxStreamsBidi : kFrameMaxStreamsUni), 0u);
  EXPECT_GT(net.control_sent(bidi ? kFrameStreamsBlockedBidi : kFrameStreamsBlockedUni), 0u);
  if (param.loss > 0) {
    EXPECT_GT(net.lost(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Streams, ManyStreams,
                         ::testing::Values(RequestResponseParams{1, 0.0, Direction::kBidi},
                                           RequestResponseParams{2, 0.05, Direction::kBidi},
                                           RequestResponseParams{3, 0.05, Direction::kUni},
                                           RequestResponseParams{4, 0.15, Direction::kBidi}));

class BulkTransfer : public ::testing::TestWithParam<std::uint64_t> {};

// A large one-way transfer through small windows with loss and reordering: every byte arrives
// once, in order; flow control never stalls for good; memory stays within the windows.
TEST_P(BulkTransfer, LargeTransferThroughSmallWindowsWithLoss) {
  constexpr std::uint64_t kTotal = 32ull << 20;
  StreamConfig client_cfg = test::config(Side::kClient, test::limits(256 << 10, 128 << 10, 4));
  StreamConfig server_cfg = test::config(Side::kServer, test::limits(256 << 10, 128 << 10, 4));
  server_cfg.send_buffer_limit = 512 << 10;
  StreamManager client(client_cfg);
  StreamManager server(server_cfg);
  ASSERT_TRUE(client.set_peer_limits(server_cfg.local));
  ASSERT_TRUE(server.set_peer_limits(client_cfg.local));
  Network net(client, server, GetParam(), 0.02);

  const StreamId id = *server.open_stream(Direction::kUni);
  std::uint64_t written = 0, received = 0;
  bool fin = false;
  std::vector<std::uint8_t> buf(64 << 10);
  const std::vector<std::uint8_t> block = test::pattern(0, 64 << 10);  // repeats every 64 KiB
  for (int round = 0; round < 200000 && !fin; ++round) {
    while (written < kTotal) {
      const std::size_t at = static_cast<std::size_t>(written % block.size());
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(block.size() - at, kTotal - written));
      auto w = server.write(id, Bytes(block.data() + at, n), written + n == kTotal);
      ASSERT_TRUE(w);
      written += *w;
      if (*w < n) break;  // send buffer full: wait for acknowledgements
    }
    net.round();
    while (true) {
      auto r = client.read(id, buf);
      if (!r) break;  // stream freed after the FIN was read
      for (std::size_t i = 0; i < r->bytes; ++i) {
        ASSERT_EQ(buf[i], block[(received + i) % block.size()]) << "at " << received + i;
      }
      received += r->bytes;
      if (r->fin) fin = true;
      if (r->bytes == 0 || r->fin) break;
    }
  }
  EXPECT_TRUE(fin);
  EXPECT_EQ(received, kTotal);
  EXPECT_GT(net.lost(), 0u);
  EXPECT_GT(net.control_sent(kFrameMaxData), 0u);
  EXPECT_GT(net.control_sent(kFrameMaxStreamData), 0u);
  for (int i = 0; i < 200 && server.stream_count() > 0; ++i) net.round();
  EXPECT_EQ(server.stream_count(), 0u);  // all acknowledged: send part done and freed
  EXPECT_EQ(client.connection_recv_flow().consumed(), kTotal);
}

INSTANTIATE_TEST_SUITE_P(Streams, BulkTransfer, ::testing::Values(11, 12));

// Window auto-tuning: with an RTT hint and a reader that drains each window quickly, the receive
// window grows from its initial size toward the configured maximum.
TEST(AutoTuning, FastReaderGrowsTheWindows) {
  StreamConfig client_cfg = test::config(Side::kClient, test::limits(64 << 10, 32 << 10, 4));
  client_cfg.max_stream_window = 1 << 20;
  client_cfg.max_connection_window = 2 << 20;
  StreamConfig server_cfg = test::config(Side::kServer, test::limits(64 << 10, 32 << 10, 4));
  StreamManager client(client_cfg);
  StreamManager server(server_cfg);
  ASSERT_TRUE(client.set_peer_limits(server_cfg.local));
  ASSERT_TRUE(server.set_peer_limits(client_cfg.local));
  client.set_rtt_hint(std::chrono::milliseconds(20));  // rounds are 1 ms: updates come fast
  Network net(client, server, 5, 0.0);
  const StreamId id = *server.open_stream(Direction::kUni);
  std::vector<std::uint8_t> data = test::pattern(0, 8 << 20);
  std::size_t written = 0;
  std::vector<std::uint8_t> buf(1 << 16);
  std::uint64_t received = 0;
  for (int round = 0; round < 5000 && received < data.size(); ++round) {
    if (written < data.size()) {
      written += *server.write(id, Bytes(data).subspan(written), true);
    }
    net.round(64);
    while (auto r = client.read(id, buf)) {
      received += r->bytes;
      if (r->bytes == 0 || r->fin) break;
    }
  }
  EXPECT_EQ(received, data.size());
  EXPECT_GT(client.connection_recv_flow().window(), 64u << 10);
  EXPECT_LE(client.connection_recv_flow().window(), 2u << 20);
  EXPECT_GT(client.connection_recv_flow().limit(), received);
}

}  // namespace
}  // namespace roam::streams
