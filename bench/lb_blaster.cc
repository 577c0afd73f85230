// The traffic tool behind bench/lb_pps.sh: measures UDP packets per second over loopback.
//   lb_blaster send  --to ADDR:PORT --seconds S [--size N] [--dcid HEX]...   as fast as sendmmsg goes
//   lb_blaster sink  --listen ADDR:PORT --seconds S                            counts what arrives
//   lb_blaster relay --listen ADDR:PORT --to ADDR:PORT --seconds S             recvmmsg -> sendmmsg, nothing else
// send builds QUIC short-header datagrams (0x40, DCID, filler) rotating over the --dcid list, so a
// load balancer in the path routes real CIDs. sink reports the rate between its first and last
// datagram; relay is the floor cost of any user-space forwarder on one core (no routing, no
// header), to set roam-lb's number against. Plain system calls, blocking sockets, batches of 64.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/socket_address.h"
#include "common/types.h"

namespace {

using Clock = std::chrono::steady_clock;

// SIGTERM/SIGINT end a run early but cleanly: the summary line is still printed.
volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
constexpr int kBatch = 64;
constexpr std::size_t kMaxDatagram = 2048;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "lb_blaster: %s\n", msg.c_str());
  std::exit(2);
}

roam::SocketAddress address(const char* text) {
  auto a = roam::SocketAddress::parse(text);
  if (!a) die(std::string("not ADDR:PORT: ") + text);
  return *a;
}

int open_socket(const roam::SocketAddress& bind_to) {
  int fd = socket(bind_to.is_ipv6() ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  int size = 8 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  timeval tv{0, 200'000};  // receives wake up to check the clock
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_storage ss;
  const socklen_t len = bind_to.to_sockaddr(ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) die("bind " + bind_to.to_string() + ": " + std::strerror(errno));
  return fd;
}

struct Batch {
  std::vector<std::uint8_t> buffers = std::vector<std::uint8_t>(kBatch * kMaxDatagram);
  std::vector<iovec> iov = std::vector<iovec>(kBatch);
  std::vector<mmsghdr> msgs = std::vector<mmsghdr>(kBatch);
  void reset_for_receive() {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {buffers.data() + i * kMaxDatagram, kMaxDatagram};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
};

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

int run_send(const roam::SocketAddress& to, double seconds, std::size_t size, const std::vector<std::string>& dcids) {
  const int fd = open_socket(to.is_ipv6() ? roam::SocketAddress::loopback_ipv6() : roam::SocketAddress::loopback_ipv4());
  sockaddr_storage dest;
  const socklen_t dest_len = to.to_sockaddr(dest);
  if (size < 32 || size > kMaxDatagram) die("--size wants 32..2048");
  // kBatch prepared datagrams, rotating over the DCIDs.
  Batch b;
  for (int i = 0; i < kBatch; ++i) {
    std::uint8_t* p = b.buffers.data() + i * kMaxDatagram;
    std::memset(p, 0x5a, size);
    p[0] = 0x40;
    if (!dcids.empty()) {
      std::basic_string<std::uint8_t> cid;
      if (!roam::from_hex(dcids[i % dcids.size()], cid) || cid.size() + 1 > size) die("bad --dcid");
      std::memcpy(p + 1, cid.data(), cid.size());
    }
    b.iov[i] = {p, size};
    b.msgs[i].msg_hdr.msg_iov = &b.iov[i];
    b.msgs[i].msg_hdr.msg_iovlen = 1;
    b.msgs[i].msg_hdr.msg_name = &dest;
    b.msgs[i].msg_hdr.msg_namelen = dest_len;
  }
  std::uint64_t sent = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (!g_stop && Clock::now() < end) {
    const int n = sendmmsg(fd, b.msgs.data(), kBatch, 0);
    if (n > 0) sent += static_cast<std::uint64_t>(n);
  }
  const double t = seconds_between(start, Clock::now());
  std::printf("sent %llu datagrams in %.2f s: %.0f pps\n", static_cast<unsigned long long>(sent), t, sent / t);
  close(fd);
  return 0;
}

int run_sink(const roam::SocketAddress& listen, double seconds) {
  const int fd = open_socket(listen);
  std::printf("sink listening on %s\n", listen.to_string().c_str());
  std::fflush(stdout);
  Batch b;
  std::uint64_t received = 0, encapsulated = 0;
  Clock::time_point first{}, last{};
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (!g_stop && Clock::now() < end) {
    b.reset_for_receive();
    const int n = recvmmsg(fd, b.msgs.data(), kBatch, 0, nullptr);
    if (n <= 0) continue;
    const auto now = Clock::now();
    if (received == 0) first = now;
    last = now;
    received += static_cast<std::uint64_t>(n);
    for (int i = 0; i < n; ++i) encapsulated += b.buffers[i * kMaxDatagram] == 1;  // roam-lb header version
  }
  const double t = received > kBatch ? seconds_between(first, last) : 0;
  std::printf("received %llu datagrams (%llu encapsulated) in %.2f s: %.0f pps\n",
              static_cast<unsigned long long>(received), static_cast<unsigned long long>(encapsulated), t,
              t > 0 ? received / t : 0.0);
  close(fd);
  return 0;
}

int run_relay(const roam::SocketAddress& listen, const roam::SocketAddress& to, double seconds) {
  const int in = open_socket(listen);
  const int out = open_socket(to.is_ipv6() ? roam::SocketAddress::loopback_ipv6() : roam::SocketAddress::loopback_ipv4());
  sockaddr_storage dest;
  const socklen_t dest_len = to.to_sockaddr(dest);
  std::printf("relay listening on %s\n", listen.to_string().c_str());
  std::fflush(stdout);
  Batch b;
  std::uint64_t relayed = 0;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (!g_stop && Clock::now() < end) {
    b.reset_for_receive();
    const int n = recvmmsg(in, b.msgs.data(), kBatch, 0, nullptr);
    if (n <= 0) continue;
    for (int i = 0; i < n; ++i) {
      b.iov[i].iov_len = b.msgs[i].msg_len;
      b.msgs[i].msg_hdr.msg_name = &dest;
      b.msgs[i].msg_hdr.msg_namelen = dest_len;
      b.msgs[i].msg_hdr.msg_control = nullptr;
      b.msgs[i].msg_hdr.msg_controllen = 0;
    }
    const int m = sendmmsg(out, b.msgs.data(), static_cast<unsigned>(n), 0);
    if (m > 0) relayed += static_cast<std::uint64_t>(m);
  }
  std::printf("relayed %llu datagrams\n", static_cast<unsigned long long>(relayed));
  close(in);
  close(out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: lb_blaster send|sink|relay [--to ADDR:PORT] [--listen ADDR:PORT] --seconds S ...");
  struct sigaction sa = {};
  sa.sa_handler = on_signal;  // no SA_RESTART: a blocked recvmmsg returns EINTR
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  const std::string_view mode = argv[1];
  const char* to = nullptr;
  const char* listen = nullptr;
  double seconds = 5;
  std::size_t size = 1200;
  std::vector<std::string> dcids;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) die("missing value after " + std::string(a));
    const char* v = argv[++i];
    if (a == "--to") {
      to = v;
    } else if (a == "--listen") {
      listen = v;
    } else if (a == "--seconds") {
      seconds = std::atof(v);
    } else if (a == "--size") {
      size = static_cast<std::size_t>(std::atol(v));
    } else if (a == "--dcid") {
      dcids.emplace_back(v);
    } else {
      die("unknown option " + std::string(a));
    }
  }
  if (seconds <= 0) die("--seconds wants a positive number");
  if (mode == "send" && to) return run_send(address(to), seconds, size, dcids);
  if (mode == "sink" && listen) return run_sink(address(listen), seconds);
  if (mode == "relay" && listen && to) return run_relay(address(listen), address(to), seconds);
  die("usage: lb_blaster send --to A | sink --listen A | relay --listen A --to B, with --seconds S");
}
