// Stream-level scenarios: flow-control-bound transfers and many more streams than the peer's
// stream limit.
#include <gtest/gtest.h>

#include "netsim_pair.h"
#include "seeds.h"

namespace roam::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class FlowControl : public ::testing::TestWithParam<std::uint64_t> {};

// Tiny windows on both sides: the transfers can only finish if MAX_DATA and MAX_STREAM_DATA keep
// coming (each moves far more than the initial windows allow).
TEST_P(FlowControl, SmallWindowsTransfersComplete) {
  PairOptions o;
  o.seed = GetParam();
  for (conn::ConnectionConfig* c : {&o.client, &o.server}) {
    c->initial_max_data = 24 * 1024;
    c->initial_max_stream_data_bidi_local = 8 * 1024;
    c->initial_max_stream_data_bidi_remote = 8 * 1024;
    c->initial_max_stream_data_uni = 8 * 1024;
  }
  o.up.delay = o.down.delay = milliseconds(10);
  o.up.loss = o.down.loss = 0.02;
  Pair p(o);
  const std::uint64_t n = 1'000'000;
  const auto down = p.app().add(Op::kDownload, n, 400 + GetParam(), p.net().now());
  const auto up = p.app().add(Op::kUpload, n, 500 + GetParam(), p.net().now());
  const auto echo = p.app().add(Op::kEcho, 200'000, 600 + GetParam(), p.net().now());
  ASSERT_TRUE(p.run_transfers(seconds(300))) << p.summary();
  for (auto i : {down, up, echo}) EXPECT_TRUE(p.app().transfers()[i].ok()) << i << ' ' << p.summary();
  EXPECT_EQ(p.server_apps().total().upload_mismatches, 0u);
  EXPECT_FALSE(p.client_conn()->is_closing()) << p.summary();
}

INSTANTIATE_TEST_SUITE_P(Seeds, FlowControl, scenario_seeds(), seed_name);

class ManyStreams : public ::testing::TestWithParam<std::uint64_t> {};

// 1000 bidirectional streams against a limit of 100 open at a time: MAX_STREAMS must be
// replenished as streams close, and every stream echoes its bytes back intact.
TEST_P(ManyStreams, ThousandEchoStreamsOverLimitOfHundred) {
  PairOptions o;
  o.seed = GetParam();
  o.server.initial_max_streams_bidi = 100;
  o.up.delay = o.down.delay = milliseconds(5);
  o.up.loss = o.down.loss = 0.01;
  Pair p(o);
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  for (int i = 0; i < 1000; ++i) p.app().add(Op::kEcho, 16 + static_cast<std::uint64_t>(i % 48), 1000 + i, p.net().now());
  ASSERT_TRUE(p.run_transfers(seconds(120))) << p.summary();
  EXPECT_EQ(p.app().completed(), 1000u);
  EXPECT_TRUE(p.app().all_ok()) << p.summary();
  EXPECT_GT(p.app().stream_limit_hits(), 0u) << "the stream limit was never reached";
  EXPECT_EQ(p.server_apps().total().requests, 1000u);
  // Stream IDs beyond the initial limit were used: client bidi stream 999 is ID 4 * 999.
  std::uint64_t max_id = 0;
  for (const auto& t : p.app().transfers()) max_id = std::max(max_id, t.stream->value);
  EXPECT_EQ(max_id, 4u * 999);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ManyStreams, scenario_seeds(), seed_name);

}  // namespace
}  // namespace roam::sim
