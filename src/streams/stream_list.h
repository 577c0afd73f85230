// An intrusive doubly-linked FIFO of objects that embed a ListHook: O(1) push, remove and
// move-to-back without allocation. The packet scheduler keeps streams with data to send in these,
// so picking the next stream never scans all streams.
#pragma once

#include <cstddef>

namespace roam::streams {

template <class T>
struct ListHook {
  T* prev = nullptr;
  T* next = nullptr;
  bool linked = false;
};

template <class T, ListHook<T> T::*Hook>
class IntrusiveList {
 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_ == nullptr; }
  std::size_t size() const { return size_; }
  T* front() const { return head_; }
  static bool contains(const T& x) { return (x.*Hook).linked; }

  void push_back(T& x) {
    ListHook<T>& h = x.*Hook;
    if (h.linked) return;
    h.prev = tail_;
    h.next = nullptr;
    h.linked = true;
    if (tail_) (tail_->*Hook).next = &x;
    else head_ = &x;
    tail_ = &x;
    ++size_;
  }
  void remove(T& x) {
    ListHook<T>& h = x.*Hook;
    if (!h.linked) return;
    if (h.prev) (h.prev->*Hook).next = h.next;
    else head_ = h.next;
    if (h.next) (h.next->*Hook).prev = h.prev;
    else tail_ = h.prev;
    h = ListHook<T>{};
    --size_;
  }
  // No-op for an element that is not in the list.
  void move_to_back(T& x) {
    if (!(x.*Hook).linked || tail_ == &x) return;
    remove(x);
    push_back(x);
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace roam::streams
