#include "cid/local_cid_pool.h"

#include <gtest/gtest.h>

#include <set>

namespace roam::cid {
namespace {

const std::uint8_t kKey[32] = {1, 2, 3};

TEST(LocalCidPool, TopsUpToPeerLimitWithDistinctCidsAndTokens) {
  RandomCidGenerator gen(8);
  SeededRandom rng(1);
  LocalCidPool pool(gen, kKey);
  pool.add_initial(gen.generate(rng));
  auto added = pool.top_up(4, rng);
  ASSERT_EQ(added.size(), 3u);
  EXPECT_EQ(added[0].seq, 1u);
  EXPECT_EQ(added[2].seq, 3u);
  std::set<std::string> cids, tokens;
  for (const auto& l : pool.active()) {
    cids.insert(l.cid.hex());
    tokens.insert(to_hex(l.reset_token));
    EXPECT_EQ(l.reset_token, crypto::stateless_reset_token(kKey, l.cid));  // any instance with the key agrees
  }
  EXPECT_EQ(cids.size(), 4u);
  EXPECT_EQ(tokens.size(), 4u);
  EXPECT_TRUE(pool.top_up(4, rng).empty());
  EXPECT_EQ(pool.top_up(100, rng).size(), LocalCidPool::kMaxActive - 4);  // our own cap
}

TEST(LocalCidPool, RetireRulesAndReplacement) {
  RandomCidGenerator gen(8);
  SeededRandom rng(2);
  LocalCidPool pool(gen, kKey);
  const ConnectionId first = pool.add_initial(gen.generate(rng)).cid;
  pool.top_up(3, rng);
  const ConnectionId second = pool.find(1)->cid;
  // Never issued.
  auto r = pool.retire(9, second);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TransportError::kProtocolViolation);
  // Retiring the CID the packet was sent to.
  r = pool.retire(1, second);
  ASSERT_FALSE(r.ok());
  // Normal retirement, then idempotent.
  r = pool.retire(0, second);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, first);
  r = pool.retire(0, second);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  auto added = pool.top_up(3, rng);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].seq, 3u);
  EXPECT_EQ(pool.retired_count(), 1u);
}

TEST(LocalCidPool, ChurnKeepsMemoryBounded) {
  RandomCidGenerator gen(8);
  SeededRandom rng(3);
  LocalCidPool pool(gen, kKey);
  pool.add_initial(gen.generate(rng));
  pool.top_up(4, rng);
  for (int i = 0; i < 10000; ++i) {
    const auto& act = pool.active();
    const std::uint64_t oldest = act.front().seq;
    const ConnectionId in_use = act.back().cid;
    ASSERT_TRUE(pool.retire(oldest, in_use).ok());
    ASSERT_EQ(pool.top_up(4, rng).size(), 1u);
    ASSERT_EQ(pool.active().size(), 4u);
  }
  EXPECT_EQ(pool.issued(), 4u + 10000u);
}

}  // namespace
}  // namespace roam::cid
