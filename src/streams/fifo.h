// A FIFO over a vector that keeps its storage: once warm, push and pop never allocate (unlike
// std::deque, which frees and reallocates blocks as the queue drains and refills). Used for the
// application events and the per-stream control frames queued once per packet or read.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace roam::streams {

template <class T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }
  // Precondition: !empty().
  const T& front() const { return items_[head_]; }
  void push_back(T v) { items_.push_back(std::move(v)); }
  void pop_front() {
    ++head_;
    if (head_ == items_.size()) {
      items_.clear();  // keeps capacity
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));  // amortized O(1)
      head_ = 0;
    }
  }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;
};

}  // namespace roam::streams
