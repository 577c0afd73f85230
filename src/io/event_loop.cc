#include "io/event_loop.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <pthread.h>

namespace roam::io {
namespace {

constexpr int kMaxEvents = 64;
constexpr std::uint32_t kSignalGeneration = 0;  // token generation reserved for the signalfd

std::uint64_t make_token(int fd, std::uint32_t generation) {
  return static_cast<std::uint64_t>(generation) << 32 | static_cast<std::uint32_t>(fd);
}

}  // namespace

SysResult<std::unique_ptr<EventLoop>> EventLoop::create() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return last_error("epoll_create1");
  return std::unique_ptr<EventLoop>(new EventLoop(fd));
}

EventLoop::~EventLoop() {
  if (signal_fd_ >= 0) {
    // Consume what is still pending, so unblocking below does not deliver it with its default
    // action (which for SIGINT/SIGTERM ends the process).
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
    }
    ::close(signal_fd_);
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  ::close(epoll_fd_);
}

SysStatus EventLoop::update(int fd, const Watch& w, int op) {
  epoll_event ev{};
  ev.events = (w.on_readable ? EPOLLIN : 0u) | (w.writable_wanted ? EPOLLOUT : 0u);
  ev.data.u64 = make_token(fd, w.generation);
  if (::epoll_ctl(epoll_fd_, op, fd, &ev) != 0) return last_error("epoll_ctl");
  return {};
}

SysStatus EventLoop::watch(int fd, Callback on_readable, Callback on_writable) {
  if (watches_.contains(fd)) return SysError{"watch", EEXIST};
  auto w = std::make_unique<Watch>();
  w->generation = next_generation_++;
  if (next_generation_ == kSignalGeneration) ++next_generation_;
  w->on_readable = std::move(on_readable);
  w->on_writable = std::move(on_writable);
  if (auto s = update(fd, *w, EPOLL_CTL_ADD); !s) return s;
  watches_.emplace(fd, std::move(w));
  return {};
}

SysStatus EventLoop::want_writable(int fd, bool enabled) {
  const auto it = watches_.find(fd);
  if (it == watches_.end()) return SysError{"want_writable", ENOENT};
  if (it->second->writable_wanted == enabled) return {};
  it->second->writable_wanted = enabled;
  return update(fd, *it->second, EPOLL_CTL_MOD);
}

SysStatus EventLoop::unwatch(int fd) {
  const auto it = watches_.find(fd);
  if (it == watches_.end()) return {};
  // The fd may already be closed, which removed it from the epoll set: ignore EBADF/ENOENT.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  retired_.push_back(std::move(it->second));
  watches_.erase(it);
  return {};
}

EventLoop::TimerId EventLoop::add_timer(Instant deadline, Callback cb) {
  const TimerId id = next_timer_++;
  timers_.emplace(std::make_pair(deadline, id), std::move(cb));
  timer_deadlines_.emplace(id, deadline);
  return id;
}

bool EventLoop::cancel_timer(TimerId id) {
  const auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
  return true;
}

bool EventLoop::reschedule_timer(TimerId id, Instant deadline) {
  const auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return false;
  auto node = timers_.extract(std::make_pair(it->second, id));
  node.key() = std::make_pair(deadline, id);
  timers_.insert(std::move(node));
  it->second = deadline;
  return true;
}

std::optional<Instant> EventLoop::next_deadline() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

SysStatus EventLoop::watch_signals(std::initializer_list<int> signals, SignalCallback cb) {
  if (signal_fd_ >= 0) return SysError{"watch_signals", EBUSY};
  sigset_t set;
  sigemptyset(&set);
  for (int sig : signals) sigaddset(&set, sig);
  sigset_t old;
  if (const int err = pthread_sigmask(SIG_BLOCK, &set, &old); err != 0) return SysError{"pthread_sigmask", err};
  const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    const SysError e = last_error("signalfd");
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return e;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = make_token(fd, kSignalGeneration);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const SysError e = last_error("epoll_ctl");
    ::close(fd);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return e;
  }
  signal_fd_ = fd;
  old_mask_ = old;
  // Kept outside watches_ so unwatch() cannot remove it and the generation check cannot match it.
  auto w = std::make_unique<Watch>();
  w->generation = kSignalGeneration;
  w->on_readable = [this, cb = std::move(cb)] {
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      cb(static_cast<int>(info.ssi_signo));
    }
  };
  signal_watch_ = std::move(w);
  return {};
}

SysStatus EventLoop::stop_on_signals(std::initializer_list<int> signals) {
  return watch_signals(signals, [this](int) { stop(); });
}

std::size_t EventLoop::dispatch(std::uint64_t token, std::uint32_t events) {
  const int fd = static_cast<int>(token & 0xffffffffu);
  const auto generation = static_cast<std::uint32_t>(token >> 32);
  if (generation == kSignalGeneration) {
    if (signal_watch_ && fd == signal_fd_) {
      signal_watch_->on_readable();
      return 1;
    }
    return 0;
  }
  // Looked up again before each callback: the first may have unwatched the fd or replaced it.
  auto current = [&]() -> Watch* {
    const auto it = watches_.find(fd);
    return it != watches_.end() && it->second->generation == generation ? it->second.get() : nullptr;
  };
  std::size_t ran = 0;
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
    if (Watch* w = current(); w != nullptr && w->on_readable) {
      w->on_readable();
      ++ran;
    }
  }
  if ((events & (EPOLLOUT | EPOLLERR)) != 0) {
    if (Watch* w = current(); w != nullptr && w->writable_wanted && w->on_writable) {
      w->on_writable();
      ++ran;
    }
  }
  return ran;
}

std::size_t EventLoop::run_due_timers() {
  // Only timers present now may run in this pass: a callback that re-arms itself at "now" runs
  // in the next iteration instead of spinning here.
  std::size_t budget = timers_.size();
  std::size_t ran = 0;
  const Instant t = now();
  while (budget-- > 0 && !timers_.empty() && timers_.begin()->first.first <= t) {
    auto node = timers_.extract(timers_.begin());
    timer_deadlines_.erase(node.key().second);
    node.mapped()();  // the node owns the callback while it runs
    ++ran;
  }
  return ran;
}

int EventLoop::wait(epoll_event* events, int max_events, Duration timeout) {
  timeout = std::max(timeout, Duration::zero());
  if (has_epoll_pwait2_) {
    const auto ns = timeout.count();
    const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    const int n = ::epoll_pwait2(epoll_fd_, events, max_events, &ts, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    has_epoll_pwait2_ = false;
  }
  // Milliseconds, rounded up so that a timer is never woken for early and spun on.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
  return ::epoll_wait(epoll_fd_, events, max_events, static_cast<int>(std::min<std::int64_t>(ms, 1'000'000)));
}

SysResult<std::size_t> EventLoop::run_once(Duration max_wait) {
  Duration timeout = max_wait;
  if (const auto deadline = next_deadline()) timeout = std::min(timeout, *deadline - now());
  std::array<epoll_event, kMaxEvents> events;
  int n = wait(events.data(), kMaxEvents, timeout);
  if (n < 0) {
    if (errno != EINTR) return last_error("epoll_wait");
    n = 0;
  }
  std::size_t ran = 0;
  for (int i = 0; i < n; ++i) ran += dispatch(events[static_cast<std::size_t>(i)].data.u64, events[static_cast<std::size_t>(i)].events);
  ran += run_due_timers();
  retired_.clear();
  return ran;
}

SysStatus EventLoop::run_until(const std::function<bool()>& done, Duration max_wait) {
  while (!stop_requested_ && !done()) {
    if (auto r = run_once(max_wait); !r) {
      stop_requested_ = false;
      return r.error();
    }
  }
  stop_requested_ = false;
  return {};
}

}  // namespace roam::io
