// A single-threaded epoll loop: file descriptors with read/write callbacks, timers on the
// monotonic clock, and SIGINT/SIGTERM through a signalfd. Every wait is bounded, so a loop run
// with a stop predicate always gets to check it again.
#pragma once

#include <signal.h>
#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/types.h"
#include "io/clock.h"
#include "io/sys_result.h"

namespace roam::io {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using SignalCallback = std::function<void(int signal)>;
  using TimerId = std::uint64_t;

  static constexpr Duration kDefaultMaxWait = std::chrono::milliseconds(100);

  static SysResult<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // CLOCK_MONOTONIC as a roam::Instant; timers use the same timeline.
  Instant now() const { return monotonic_now(); }

  // Watches fd (level-triggered). on_readable runs while fd is readable and also on EPOLLERR or
  // EPOLLHUP, so its owner reads the error. on_writable runs while fd is writable, but only
  // after want_writable(fd, true): turn it on when a send would block, off when drained.
  // Callbacks may watch, unwatch, add or cancel anything, themselves included.
  SysStatus watch(int fd, Callback on_readable, Callback on_writable = nullptr);
  SysStatus want_writable(int fd, bool enabled);
  // Stops watching fd (before the caller closes it). Not an error if fd is not watched.
  SysStatus unwatch(int fd);
  bool is_watched(int fd) const { return watches_.contains(fd); }

  // Runs cb once at or after deadline. Timers due together run in deadline order, then in the
  // order they were added.
  TimerId add_timer(Instant deadline, Callback cb);
  bool cancel_timer(TimerId id);  // false if it already ran or was cancelled
  bool reschedule_timer(TimerId id, Instant deadline);  // keeps the callback; false if unknown
  std::optional<Instant> next_deadline() const;
  std::size_t timer_count() const { return timers_.size(); }

  // Blocks these signals in the calling thread (do this before starting other threads, which
  // inherit the mask) and delivers them to cb through a signalfd. One call per loop.
  SysStatus watch_signals(std::initializer_list<int> signals, SignalCallback cb);
  // watch_signals(signals) with a callback that calls stop().
  SysStatus stop_on_signals(std::initializer_list<int> signals = {SIGINT, SIGTERM});

  // Makes run_until/run return after the current iteration.
  void stop() { stop_requested_ = true; }

  // One iteration: waits for fds up to max_wait but not past the next timer, runs the callbacks
  // of ready fds, then the timers that are due. Returns the number of callbacks run.
  SysResult<std::size_t> run_once(Duration max_wait = kDefaultMaxWait);
  // Iterates until done() returns true (checked before each iteration) or stop() is called.
  SysStatus run_until(const std::function<bool()>& done, Duration max_wait = kDefaultMaxWait);
  SysStatus run(Duration max_wait = kDefaultMaxWait) { return run_until([] { return false; }, max_wait); }

 private:
  struct Watch {
    std::uint32_t generation = 0;
    Callback on_readable;
    Callback on_writable;
    bool writable_wanted = false;
  };

  explicit EventLoop(int epoll_fd) : epoll_fd_(epoll_fd) {}
  SysStatus update(int fd, const Watch& w, int op);
  std::size_t dispatch(std::uint64_t token, std::uint32_t events);
  std::size_t run_due_timers();
  int wait(epoll_event* events, int max_events, Duration timeout);

  int epoll_fd_ = -1;
  std::uint32_t next_generation_ = 1;
  std::unordered_map<int, std::unique_ptr<Watch>> watches_;
  std::vector<std::unique_ptr<Watch>> retired_;  // unwatched during dispatch; freed after it

  TimerId next_timer_ = 1;
  std::map<std::pair<Instant, TimerId>, Callback> timers_;
  std::unordered_map<TimerId, Instant> timer_deadlines_;

  int signal_fd_ = -1;
  std::unique_ptr<Watch> signal_watch_;
  sigset_t old_mask_{};
  bool stop_requested_ = false;
  bool has_epoll_pwait2_ = true;
};

}  // namespace roam::io
