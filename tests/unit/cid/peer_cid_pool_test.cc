// The connection IDs a peer issued to us (RFC 9000 5.1.1, 5.1.2, 19.15, 19.16): limits,
// sequence-number reuse, Retire Prior To, late and duplicate frames, stateless reset tokens, and
// memory that stays bounded however many CIDs pass through.
#include "cid/peer_cid_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace roam::cid {
namespace {

ConnectionId cid_of(std::uint64_t n) {
  ConnectionId c;
  c.resize(8);
  for (int i = 0; i < 8; ++i) c.mutable_data()[i] = static_cast<std::uint8_t>(n >> (8 * i)) ^ 0xa5;
  return c;
}

crypto::StatelessResetToken token_of(std::uint64_t n) {
  crypto::StatelessResetToken t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>(n * 31 + i);
  return t;
}

Result<std::vector<std::uint64_t>> add(PeerCidPool& pool, std::uint64_t seq, std::uint64_t rpt = 0) {
  return pool.on_new_connection_id(seq, rpt, cid_of(seq), token_of(seq));
}

std::vector<std::uint64_t> drain_retires(PeerCidPool& pool) {
  std::vector<std::uint64_t> out;
  while (pool.has_retire_pending()) out.push_back(pool.pop_retire());
  std::sort(out.begin(), out.end());
  return out;
}

// A pool as a connection has it after the handshake: the peer's handshake CID (sequence 0) in
// use by the first path.
PeerCidPool started(std::uint64_t limit = 4) {
  PeerCidPool pool(limit);
  pool.set_initial(cid_of(0));
  pool.set_initial_token(token_of(0));
  return pool;
}

TEST(PeerCidPool, AcceptsUpToTheLimitThenConnectionIdLimitError) {
  PeerCidPool pool = started(4);
  for (std::uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(add(pool, s).ok()) << s;
  EXPECT_EQ(pool.active_count(), 4u);
  auto r = add(pool, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TransportError::kConnectionIdLimitError);
  EXPECT_EQ(r.error().frame_type, 0x18u);  // NEW_CONNECTION_ID
}

TEST(PeerCidPool, RetirePriorToMakesRoomWithinTheLimit) {
  PeerCidPool pool = started(4);
  for (std::uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(add(pool, s).ok());
  // The fifth CID is fine when it retires one of the four (5.1.2: limit counted after retiring).
  ASSERT_TRUE(add(pool, 4, 1).ok());
  EXPECT_EQ(pool.active_count(), 4u);
  EXPECT_EQ(drain_retires(pool), (std::vector<std::uint64_t>{0}));
}

TEST(PeerCidPool, SequenceNumberReusedWithOtherValuesIsProtocolViolation) {
  PeerCidPool pool = started();
  ASSERT_TRUE(add(pool, 1).ok());
  auto other_cid = pool.on_new_connection_id(1, 0, cid_of(99), token_of(1));
  ASSERT_FALSE(other_cid.ok());
  EXPECT_EQ(other_cid.error().code, TransportError::kProtocolViolation);
  auto other_token = pool.on_new_connection_id(1, 0, cid_of(1), token_of(99));
  ASSERT_FALSE(other_token.ok());
  EXPECT_EQ(other_token.error().code, TransportError::kProtocolViolation);
  // The same CID under a second sequence number.
  auto twice = pool.on_new_connection_id(2, 0, cid_of(1), token_of(2));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, TransportError::kProtocolViolation);
}

TEST(PeerCidPool, DuplicateFrameIsTolerated) {
  PeerCidPool pool = started();
  ASSERT_TRUE(add(pool, 1).ok());
  ASSERT_TRUE(add(pool, 1).ok());  // a retransmitted NEW_CONNECTION_ID
  EXPECT_EQ(pool.active_count(), 2u);
  // Also after it was retired: a late copy neither returns nor errs.
  pool.retire(1);
  EXPECT_EQ(drain_retires(pool), (std::vector<std::uint64_t>{1}));
  ASSERT_TRUE(add(pool, 1).ok());
  EXPECT_EQ(pool.find(1), nullptr);
  EXPECT_FALSE(pool.has_retire_pending());
}

TEST(PeerCidPool, TakeUnusedGivesEachCidOnceLowestFirst) {
  PeerCidPool pool = started();
  ASSERT_TRUE(add(pool, 2).ok());
  ASSERT_TRUE(add(pool, 1).ok());
  EXPECT_TRUE(pool.has_unused());
  auto a = pool.take_unused();
  auto b = pool.take_unused();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->seq, 1u);
  EXPECT_EQ(b->seq, 2u);
  EXPECT_EQ(a->cid, cid_of(1));
  EXPECT_FALSE(pool.take_unused());  // sequence 0 is in use by the first path
  EXPECT_FALSE(pool.has_unused());
}

TEST(PeerCidPool, RetirePriorToRetiresCidsInUseAndQueuesRetireFrames) {
  PeerCidPool pool = started();
  ASSERT_TRUE(add(pool, 1).ok());
  ASSERT_TRUE(add(pool, 2).ok());
  ASSERT_TRUE(pool.take_unused().has_value());  // sequence 1 now in use by a second path
  auto r = add(pool, 3, 2);
  ASSERT_TRUE(r.ok());
  // Both paths' CIDs are gone: the connection must move them to fresh ones.
  std::vector<std::uint64_t> in_use = *r;
  std::sort(in_use.begin(), in_use.end());
  EXPECT_EQ(in_use, (std::vector<std::uint64_t>{0, 1}));
  EXPECT_EQ(drain_retires(pool), (std::vector<std::uint64_t>{0, 1}));
  EXPECT_EQ(pool.active_count(), 2u);
  EXPECT_EQ(pool.find(0), nullptr);
  EXPECT_NE(pool.find(2), nullptr);
  EXPECT_EQ(pool.retired_count(), 2u);
  // A smaller Retire Prior To later changes nothing.
  ASSERT_TRUE(add(pool, 4, 1).ok());
  EXPECT_FALSE(pool.has_retire_pending());
}

TEST(PeerCidPool, NewCidBelowRetirePriorToIsRetiredAtOnce) {
  PeerCidPool pool = started();
  ASSERT_TRUE(add(pool, 1).ok());
  // Sequence 3 overtook sequence 2 on the wire and retires everything below it. Sequence 2
  // (issued, not received yet) is retired too, never used: each number gets exactly one
  // RETIRE_CONNECTION_ID (19.15), whether sent now or when its frame shows up.
  ASSERT_TRUE(add(pool, 3, 3).ok());
  std::vector<std::uint64_t> retires = drain_retires(pool);
  auto late = add(pool, 2);
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->empty());
  for (auto s : drain_retires(pool)) retires.push_back(s);
  std::sort(retires.begin(), retires.end());
  EXPECT_EQ(retires, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(pool.find(2), nullptr);
  EXPECT_EQ(pool.active_count(), 1u);  // only sequence 3
  EXPECT_EQ(pool.retired_tracking_size(), 0u);
  EXPECT_EQ(pool.retired_count(), 3u);
}

TEST(PeerCidPool, OvertakenFrameFillsItsGap) {
  PeerCidPool pool = started();
  ASSERT_TRUE(add(pool, 2).ok());  // sequence 1 is still on its way
  EXPECT_EQ(pool.retired_tracking_size(), 1u);
  ASSERT_TRUE(add(pool, 1).ok());
  EXPECT_NE(pool.find(1), nullptr);
  EXPECT_EQ(pool.retired_tracking_size(), 0u);
  EXPECT_FALSE(pool.has_retire_pending());
}

TEST(PeerCidPool, RetireOfCidInUseAndLostRetireFrameGoesOutAgain) {
  PeerCidPool pool = started();
  ASSERT_TRUE(add(pool, 1).ok());
  pool.retire(0);
  pool.retire(0);  // no-op the second time
  EXPECT_EQ(drain_retires(pool), (std::vector<std::uint64_t>{0}));
  pool.requeue_retire(0);  // the packet carrying it was lost
  EXPECT_EQ(drain_retires(pool), (std::vector<std::uint64_t>{0}));
  pool.retire(7);  // never issued: nothing to do
  EXPECT_FALSE(pool.has_retire_pending());
  EXPECT_EQ(pool.retired_count(), 1u);
}

TEST(PeerCidPool, ResetTokensMatchOnlyWhileTheCidIsActive) {
  PeerCidPool pool = started();
  ASSERT_TRUE(add(pool, 1).ok());
  const auto t0 = token_of(0);
  const auto t1 = token_of(1);
  EXPECT_TRUE(pool.matches_reset_token(Bytes(t0.data(), t0.size())));
  EXPECT_TRUE(pool.matches_reset_token(Bytes(t1.data(), t1.size())));
  EXPECT_FALSE(pool.matches_reset_token(Bytes(t1.data(), 15)));  // wrong length
  pool.retire(1);
  EXPECT_FALSE(pool.matches_reset_token(Bytes(t1.data(), t1.size())));
  const auto other = token_of(5);
  EXPECT_FALSE(pool.matches_reset_token(Bytes(other.data(), other.size())));
}

TEST(PeerCidPool, PreferredAddressCidIsSequenceOne) {
  PeerCidPool pool = started();
  ASSERT_TRUE(pool.add_preferred(cid_of(1), token_of(1)).ok());
  ASSERT_NE(pool.find(1), nullptr);
  EXPECT_EQ(pool.find(1)->cid, cid_of(1));
  // The same CID in a NEW_CONNECTION_ID with sequence 1 is a duplicate, not a conflict.
  EXPECT_TRUE(add(pool, 1).ok());
  EXPECT_EQ(pool.active_count(), 2u);
}

TEST(PeerCidPool, HugeRetirePriorToDoesNotLoopOrGrow) {
  PeerCidPool pool = started();
  ASSERT_TRUE(add(pool, 1).ok());
  // Retire Prior To is at most the sequence number (the frame decoder checks), and sequence
  // numbers go up one by one: a huge value is a peer skipping 2^62 numbers. It is refused at
  // once, without retiring (or remembering) anything.
  const std::uint64_t huge = (std::uint64_t{1} << 62) - 1;  // the largest varint
  auto r = add(pool, huge, huge);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TransportError::kProtocolViolation);
  EXPECT_EQ(pool.active_count(), 2u);
  EXPECT_FALSE(pool.has_retire_pending());
  EXPECT_EQ(pool.retired_tracking_size(), 0u);
  // The largest jump allowed retires what it skips, once each, and keeps nothing for it.
  const std::uint64_t far = 2 + PeerCidPool::kMaxGap;
  r = add(pool, far, far);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->size(), 1u);  // sequence 0 was in use
  EXPECT_EQ(pool.active_count(), 1u);
  EXPECT_EQ(drain_retires(pool).size(), far);  // 0 .. far-1
  EXPECT_EQ(pool.retired_tracking_size(), 0u);
  // One more than that is refused.
  r = add(pool, far + 2 + PeerCidPool::kMaxGap);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TransportError::kProtocolViolation);
  // Late copies of anything skipped change nothing.
  for (std::uint64_t s = 2; s < 500; ++s) ASSERT_TRUE(add(pool, s).ok());
  EXPECT_EQ(pool.active_count(), 1u);
  EXPECT_FALSE(pool.has_retire_pending());
}

// A long connection whose peer rotates CIDs (Retire Prior To following its sequence numbers)
// while we use and retire them: everything we keep stays bounded.
TEST(PeerCidPool, MemoryStaysBoundedOverManyCids) {
  PeerCidPool pool = started(4);
  std::uint64_t next = 1;
  std::size_t max_active = 0, max_tracking = 0;
  for (int round = 0; round < 20'000; ++round) {
    // The peer issues one more, sometimes retiring the oldest ones itself.
    const std::uint64_t rpt = round % 3 == 0 && next > 3 ? next - 3 : 0;
    auto r = add(pool, next++, rpt);
    ASSERT_TRUE(r.ok()) << "round " << round << ": " << r.error().reason;
    // We move a path to a fresh CID and give the old one back, as a migration does.
    if (auto c = pool.take_unused()) pool.retire(c->seq);
    drain_retires(pool);
    max_active = std::max(max_active, pool.active_count());
    max_tracking = std::max(max_tracking, pool.retired_tracking_size());
  }
  EXPECT_LE(max_active, 4u);
  EXPECT_LE(max_tracking, 8u);
  EXPECT_GE(pool.retired_count(), 19'000u);
}

// CIDs retired out of order (paths abandoned in another order than they were opened) do not
// leave the tracking set growing either.
TEST(PeerCidPool, OutOfOrderRetirementStaysBounded) {
  PeerCidPool pool = started(8);
  std::uint64_t next = 1;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(add(pool, next++).ok());
  std::size_t max_tracking = 0;
  for (int round = 0; round < 5'000; ++round) {
    std::vector<std::uint64_t> taken;
    while (auto c = pool.take_unused()) taken.push_back(c->seq);
    // Give them back highest first, then top the pool up again.
    for (auto it = taken.rbegin(); it != taken.rend(); ++it) pool.retire(*it);
    drain_retires(pool);
    max_tracking = std::max(max_tracking, pool.retired_tracking_size());
    while (pool.active_count() < 8) ASSERT_TRUE(add(pool, next++).ok());
  }
  EXPECT_LE(max_tracking, 8u);
}

}  // namespace
}  // namespace roam::cid
