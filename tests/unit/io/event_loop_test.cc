#include "io/event_loop.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "io/udp_socket.h"
#include "loopback.h"

namespace roam::io {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<EventLoop> make_loop() {
  auto loop = EventLoop::create();
  if (!loop) {
    ADD_FAILURE() << loop.error().message();
    std::abort();
  }
  return std::move(loop).value();
}

// A predicate that also gives up after a real-time limit, so no test can hang.
template <class F>
std::function<bool()> until(F done, std::chrono::milliseconds limit = 2000ms) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  return [done, give_up] { return done() || std::chrono::steady_clock::now() > give_up; };
}

class EventFd {
 public:
  EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~EventFd() { ::close(fd_); }
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  int fd() const { return fd_; }
  void signal() const {
    const std::uint64_t one = 1;
    EXPECT_EQ(::write(fd_, &one, sizeof(one)), 8);
  }
  void consume() const {
    std::uint64_t v;
    EXPECT_EQ(::read(fd_, &v, sizeof(v)), 8);
  }

 private:
  int fd_;
};

TEST(EventLoop, NowIsMonotonicAndMatchesTheClock) {
  auto loop = make_loop();
  const Instant a = loop->now();
  const Instant b = monotonic_now();
  const Instant c = loop->now();
  EXPECT_LE(a, b);
  EXPECT_LE(b, c);
  EXPECT_GT(a.time_since_epoch().count(), 0);
}

TEST(EventLoop, TimersFireInDeadlineOrder) {
  auto loop = make_loop();
  const Instant t0 = loop->now();
  std::vector<int> fired;
  loop->add_timer(t0 + 3ms, [&] { fired.push_back(3); });
  loop->add_timer(t0 + 1ms, [&] { fired.push_back(1); });
  loop->add_timer(t0 + 2ms, [&] { fired.push_back(2); });
  loop->add_timer(t0 + 2ms, [&] { fired.push_back(22); });  // same deadline: order of adding
  loop->add_timer(t0 - 1ms, [&] { fired.push_back(0); });   // already due
  EXPECT_EQ(loop->timer_count(), 5u);
  ASSERT_EQ(loop->next_deadline(), t0 - 1ms);
  ASSERT_TRUE(loop->run_until(until([&] { return fired.size() == 5; })));
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 22, 3}));
  EXPECT_GE(loop->now() - t0, 3ms);  // none ran early
  EXPECT_EQ(loop->timer_count(), 0u);
  EXPECT_FALSE(loop->next_deadline().has_value());
}

TEST(EventLoop, CancelAndReschedule) {
  auto loop = make_loop();
  const Instant t0 = loop->now();
  std::vector<int> fired;
  const auto a = loop->add_timer(t0 + 1ms, [&] { fired.push_back(1); });
  const auto b = loop->add_timer(t0 + 2ms, [&] { fired.push_back(2); });
  const auto c = loop->add_timer(t0 + 3ms, [&] { fired.push_back(3); });
  EXPECT_TRUE(loop->cancel_timer(b));
  EXPECT_FALSE(loop->cancel_timer(b));
  EXPECT_TRUE(loop->reschedule_timer(a, t0 + 5ms));  // now after c
  EXPECT_FALSE(loop->reschedule_timer(b, t0));
  EXPECT_EQ(loop->next_deadline(), t0 + 3ms);
  ASSERT_TRUE(loop->run_until(until([&] { return fired.size() == 2; })));
  EXPECT_EQ(fired, (std::vector<int>{3, 1}));
  EXPECT_FALSE(loop->cancel_timer(c));  // already ran
}

TEST(EventLoop, TimerCallbacksMayAddAndCancelTimers) {
  auto loop = make_loop();
  const Instant t0 = loop->now();
  std::vector<int> fired;
  EventLoop::TimerId victim = 0;
  loop->add_timer(t0, [&] {
    fired.push_back(1);
    loop->cancel_timer(victim);
    loop->add_timer(loop->now(), [&] { fired.push_back(3); });
  });
  victim = loop->add_timer(t0, [&] { fired.push_back(2); });
  auto first = loop->run_once(0ms);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 1u);  // the re-armed timer waits for the next pass instead of spinning here
  EXPECT_EQ(fired, (std::vector<int>{1}));
  ASSERT_TRUE(loop->run_until(until([&] { return fired.size() == 2; })));
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
}

TEST(EventLoop, WaitsAreBoundedAndEndAtTheNextTimer) {
  auto loop = make_loop();
  auto start = std::chrono::steady_clock::now();
  auto r = loop->run_once(20ms);  // nothing to do: returns after about max_wait
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 19ms);
  EXPECT_LT(waited, 1s);

  bool fired = false;
  loop->add_timer(loop->now() + 5ms, [&] { fired = true; });
  start = std::chrono::steady_clock::now();
  r = loop->run_once(10s);  // the timer, not max_wait, bounds this wait
  ASSERT_TRUE(r);
  waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(fired);
  EXPECT_GE(waited, 4ms);
  EXPECT_LT(waited, 1s);
}

TEST(EventLoop, FdReadinessRunsTheCallback) {
  auto loop = make_loop();
  auto rx = loopback::open_or_die(SocketAddress::loopback_ipv4());
  auto tx = loopback::open_or_die(SocketAddress::loopback_ipv4());
  ReceiveBatch batch(8, 2048);
  std::size_t received = 0;
  ASSERT_TRUE(loop->watch(rx.fd(), [&] { received += rx.receive(batch); }));
  EXPECT_TRUE(loop->is_watched(rx.fd()));
  EXPECT_FALSE(loop->watch(rx.fd(), [] {}).ok());  // one watch per fd

  // Nothing readable: no callback.
  auto r = loop->run_once(5ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);

  const auto data = loopback::pattern(100);
  Transmit t;
  t.peer = rx.local_address();
  t.data = data;
  loop->add_timer(loop->now() + 2ms, [&] { EXPECT_TRUE(tx.send({&t, 1}).ok()); });
  ASSERT_TRUE(loop->run_until(until([&] { return received == 1; })));
  EXPECT_EQ(received, 1u);

  ASSERT_TRUE(loop->unwatch(rx.fd()));
  EXPECT_FALSE(loop->is_watched(rx.fd()));
  EXPECT_TRUE(tx.send({&t, 1}).ok());
  r = loop->run_once(10ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(received, 1u);
}

TEST(EventLoop, WritableCallbackOnlyWhenWanted) {
  auto loop = make_loop();
  EventFd efd;  // an eventfd is always writable
  int writable = 0;
  ASSERT_TRUE(loop->watch(efd.fd(), nullptr, [&] { ++writable; }));
  ASSERT_TRUE(loop->run_once(1ms));
  EXPECT_EQ(writable, 0);
  ASSERT_TRUE(loop->want_writable(efd.fd(), true));
  ASSERT_TRUE(loop->run_once(1ms));
  EXPECT_EQ(writable, 1);
  ASSERT_TRUE(loop->want_writable(efd.fd(), false));
  ASSERT_TRUE(loop->run_once(1ms));
  EXPECT_EQ(writable, 1);
  EXPECT_FALSE(loop->want_writable(12345, true).ok());
}

TEST(EventLoop, CallbackMayUnwatchAnotherReadyFd) {
  auto loop = make_loop();
  EventFd a, b;
  int ran_a = 0, ran_b = 0;
  ASSERT_TRUE(loop->watch(a.fd(), [&] {
    ++ran_a;
    a.consume();
    ASSERT_TRUE(loop->unwatch(b.fd()));
  }));
  ASSERT_TRUE(loop->watch(b.fd(), [&] {
    ++ran_b;
    b.consume();
    ASSERT_TRUE(loop->unwatch(a.fd()));
  }));
  a.signal();
  b.signal();
  ASSERT_TRUE(loop->run_once(100ms));
  // Whichever ran first unwatched the other, whose pending event is then ignored.
  EXPECT_EQ(ran_a + ran_b, 1);
  EXPECT_NE(loop->is_watched(a.fd()), loop->is_watched(b.fd()));
}

TEST(EventLoop, CallbackMayUnwatchItself) {
  auto loop = make_loop();
  EventFd a;
  int ran = 0;
  ASSERT_TRUE(loop->watch(a.fd(), [&] {
    ++ran;
    ASSERT_TRUE(loop->unwatch(a.fd()));  // destroys nothing while it runs
  }));
  a.signal();
  ASSERT_TRUE(loop->run_once(100ms));
  ASSERT_TRUE(loop->run_once(1ms));  // still readable, but no longer watched
  EXPECT_EQ(ran, 1);
}

TEST(EventLoop, StopEndsRun) {
  auto loop = make_loop();
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks == 3) {
      loop->stop();
    } else {
      loop->add_timer(loop->now() + 1ms, tick);
    }
  };
  loop->add_timer(loop->now(), tick);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(ticks, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  // The stop request is consumed: a later run_until runs again.
  bool again = false;
  loop->add_timer(loop->now(), [&] { again = true; });
  ASSERT_TRUE(loop->run_until(until([&] { return again; })));
  EXPECT_TRUE(again);
}

bool signal_blocked(int sig) {
  sigset_t current;
  pthread_sigmask(SIG_BLOCK, nullptr, &current);
  return sigismember(&current, sig) == 1;
}

TEST(EventLoop, SignalStopsTheLoop) {
  ASSERT_FALSE(signal_blocked(SIGUSR1));
  {
    auto loop = make_loop();
    ASSERT_TRUE(loop->stop_on_signals({SIGUSR1}));
    EXPECT_TRUE(signal_blocked(SIGUSR1));
    EXPECT_FALSE(loop->stop_on_signals({SIGUSR2}).ok());  // one signal set per loop
    loop->add_timer(loop->now() + 2ms, [] { ::raise(SIGUSR1); });
    bool gave_up = false;
    const auto give_up = std::chrono::steady_clock::now() + 2s;
    ASSERT_TRUE(loop->run_until([&] { return gave_up = std::chrono::steady_clock::now() > give_up; }));
    EXPECT_FALSE(gave_up);
  }
  EXPECT_FALSE(signal_blocked(SIGUSR1));  // the loop restored the mask
}

TEST(EventLoop, SignalCallbackGetsTheSignalNumber) {
  auto loop = make_loop();
  std::vector<int> got;
  ASSERT_TRUE(loop->watch_signals({SIGUSR1, SIGUSR2}, [&](int sig) { got.push_back(sig); }));
  ::raise(SIGUSR2);
  ::raise(SIGUSR1);
  ASSERT_TRUE(loop->run_until(until([&] { return got.size() == 2; })));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0] + got[1], SIGUSR1 + SIGUSR2);
}

}  // namespace
}  // namespace roam::io
