// Loopback UDP send paths, as datagrams per second: one sendto() per datagram, sendmmsg batches,
// and UDP GSO (alone and batched with sendmmsg). A receiver thread drains with recvmmsg + GRO
// through the event loop; rx_per_s and delivered show how much of what was sent it got (the
// sender can outrun it: loopback drops at a full receive buffer rather than slowing the sender).
// Reports only; the two cores of this machine are shared by sender and receiver.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "io/event_loop.h"
#include "io/udp_socket.h"

namespace {

using roam::SocketAddress;
using namespace roam::io;
using namespace std::chrono_literals;

constexpr std::size_t kDatagramSize = 1200;

UdpSocket open_socket(const SocketOptions& options) {
  auto s = UdpSocket::open(SocketAddress::loopback_ipv4(), options);
  if (!s) {
    std::fprintf(stderr, "bench_udp: %s\n", s.error().message().c_str());
    std::abort();
  }
  return std::move(s).value();
}

class Receiver {
 public:
  Receiver() : socket_(open_socket(options())), address_(socket_.local_address()) {
    thread_ = std::thread([this] { run(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  const SocketAddress& address() const { return address_; }
  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }

  // Waits (at most 500 ms) until the count stops moving: what was queued has been read.
  std::uint64_t settle() const {
    std::uint64_t last = received();
    const auto give_up = std::chrono::steady_clock::now() + 500ms;
    while (std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(5ms);
      const std::uint64_t now = received();
      if (now == last) break;
      last = now;
    }
    return last;
  }

 private:
  static SocketOptions options() {
    SocketOptions o;
    o.recv_buffer_bytes = 32 << 20;
    return o;
  }

  void run() {
    auto loop = EventLoop::create();
    if (!loop) std::abort();
    ReceiveBatch batch;
    auto watched = (*loop)->watch(socket_.fd(), [&] {
      for (int i = 0; i < 16; ++i) {
        const std::size_t n = socket_.receive(batch);
        if (n == 0) break;
        received_.fetch_add(n, std::memory_order_relaxed);
      }
    });
    if (!watched) std::abort();
    auto ran = (*loop)->run_until([&] { return stop_.load(); }, 10ms);
    if (!ran) std::abort();
  }

  UdpSocket socket_;  // used only by the receiver thread after construction
  SocketAddress address_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> received_{0};
  std::thread thread_;
};

// Resends the rest of a batch after a would-block, waiting for the socket to become writable.
std::size_t send_all(UdpSocket& socket, std::span<const Transmit> transmits) {
  std::size_t datagrams = 0;
  for (const auto& t : transmits) datagrams += t.segment_count();
  SendResult r = socket.send(transmits);
  if (r.ok()) return datagrams;
  std::vector<Transmit> pending(transmits.begin(), transmits.end());  // only on the slow path
  std::span<Transmit> rest(pending);
  while (!r.ok()) {
    if (r.status != SendStatus::kWouldBlock) {
      std::fprintf(stderr, "bench_udp: send failed, errno %d\n", r.error);
      std::abort();
    }
    rest = rest.subspan(r.sent);
    rest[0].data = rest[0].data.subspan(r.partial_bytes);
    pollfd p{socket.fd(), POLLOUT, 0};
    ::poll(&p, 1, 10);
    r = socket.send(rest);
  }
  return datagrams;
}

void report(benchmark::State& state, const Receiver& rx, std::uint64_t rx_before, std::uint64_t sent) {
  const std::uint64_t got = rx.settle() - rx_before;
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
  state.SetBytesProcessed(static_cast<std::int64_t>(sent * kDatagramSize));
  state.counters["rx_per_s"] = benchmark::Counter(static_cast<double>(got), benchmark::Counter::kIsRate);
  state.counters["delivered"] = sent == 0 ? 0.0 : static_cast<double>(got) / static_cast<double>(sent);
}

// The baseline: one sendto() system call per datagram.
void BM_SendToPerDatagram(benchmark::State& state) {
  Receiver rx;
  auto tx = open_socket({});
  const std::vector<std::uint8_t> payload(kDatagramSize, 0x5a);
  sockaddr_storage to;
  const socklen_t to_len = rx.address().to_sockaddr(to);
  const std::uint64_t before = rx.received();
  std::uint64_t sent = 0;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) {
      if (::sendto(tx.fd(), payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&to), to_len) ==
          static_cast<ssize_t>(payload.size())) {
        ++sent;
      }
    }
  }
  report(state, rx, before, sent);
}
BENCHMARK(BM_SendToPerDatagram)->UseRealTime();

// UdpSocket::send with N single-datagram transmits: one sendmmsg per 64 datagrams, no GSO.
void BM_SendmmsgBatch(benchmark::State& state) {
  Receiver rx;
  SocketOptions no_gso;
  no_gso.gso = false;
  auto tx = open_socket(no_gso);
  const std::vector<std::uint8_t> payload(kDatagramSize, 0x5a);
  Transmit t;
  t.peer = rx.address();
  t.data = payload;
  const std::vector<Transmit> batch(static_cast<std::size_t>(state.range(0)), t);
  const std::uint64_t before = rx.received();
  std::uint64_t sent = 0;
  for (auto _ : state) sent += send_all(tx, batch);
  report(state, rx, before, sent);
}
BENCHMARK(BM_SendmmsgBatch)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();

// GSO: each transmit carries range(0) segments of 1200 bytes (the socket splits at the kernel's
// 64 KiB per send); range(1) transmits go in one UdpSocket::send (one sendmmsg).
void BM_SendGso(benchmark::State& state) {
  Receiver rx;
  auto tx = open_socket({});
  if (!tx.capabilities().gso) {
    state.SkipWithError("no UDP GSO on this kernel");
    return;
  }
  const auto segments = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> payload(kDatagramSize * segments, 0x5a);
  Transmit t;
  t.peer = rx.address();
  t.data = payload;
  t.segment_size = kDatagramSize;
  const std::vector<Transmit> batch(static_cast<std::size_t>(state.range(1)), t);
  const std::uint64_t before = rx.received();
  std::uint64_t sent = 0;
  for (auto _ : state) sent += send_all(tx, batch);
  report(state, rx, before, sent);
  state.counters["send_calls"] = static_cast<double>(tx.stats().send_calls);
}
BENCHMARK(BM_SendGso)->Args({10, 1})->Args({54, 1})->Args({54, 8})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
