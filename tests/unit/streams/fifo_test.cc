#include "streams/fifo.h"

#include <gtest/gtest.h>

namespace roam::streams {
namespace {

TEST(Fifo, KeepsOrderThroughCompaction) {
  Fifo<int> q;
  int next_in = 0, next_out = 0;
  // Interleave pushes and pops so that the queue is never empty and compaction kicks in.
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 3; ++i) q.push_back(next_in++);
    for (int i = 0; i < 2; ++i) {
      ASSERT_FALSE(q.empty());
      EXPECT_EQ(q.front(), next_out++);
      q.pop_front();
    }
  }
  EXPECT_EQ(q.size(), 1000u);
  while (!q.empty()) {
    EXPECT_EQ(q.front(), next_out++);
    q.pop_front();
  }
  EXPECT_EQ(next_out, next_in);
}

}  // namespace
}  // namespace roam::streams
