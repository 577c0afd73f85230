#include "server_workers.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "crypto/system_random.h"
#include "io/reuseport_steering.h"

namespace roam::apps {

namespace {
constexpr std::size_t kResetKeySize = 32;
}  // namespace

std::unique_ptr<WorkerGroup> WorkerGroup::create(const SocketAddress& bind, endpoint::EndpointConfig config,
                                                 std::shared_ptr<tls::TlsContext> tls,
                                                 const WorkerGroupOptions& options) {
  const std::uint32_t n = std::max<std::uint32_t>(options.workers, 1);
  if (options.cids.size() != n) {
    std::fprintf(stderr, "error: %u workers but %zu CID generators\n", n, options.cids.size());
    return nullptr;
  }
  std::unique_ptr<WorkerGroup> g(new WorkerGroup());
  g->cids_ = options.cids;
  g->encapsulated_ = !options.load_balancers.empty();
  if (config.connection.reset_key.empty() && n > 1) {
    // One key for the host: a datagram for any worker's CID may be answered by any worker.
    crypto::SystemRandom rng;
    config.connection.reset_key.resize(kResetKeySize);
    rng.fill(config.connection.reset_key);
  }
  DriverOptions dopt;
  dopt.reuse_port = n > 1;
  dopt.handle_signals = n == 1;
  dopt.gro = n == 1;
  dopt.load_balancers = options.load_balancers;
  for (std::uint32_t w = 0; w < n; ++w) {
    endpoint::EndpointConfig ec = config;
    if (options.cids[w].generator) ec.connection.cid_generator = options.cids[w].generator;
    // Worker 0 may bind port 0; the others join the port it got.
    auto d = Driver::create(w == 0 ? bind : g->address(), ec, tls, dopt);
    if (!d) return nullptr;
    g->drivers_.push_back(std::move(d));
  }
  if (n > 1 && !g->steer(g->address())) return nullptr;
  return g;
}

bool WorkerGroup::steer(const SocketAddress& address) {
  const auto& first = cids_.front();
  if (!first.generator || !first.worker_offset) {
    std::fprintf(stderr, "error: workers need CIDs that name them\n");
    return false;
  }
  io::SteeringLayout layout;
  layout.workers = size();
  layout.cid_length = first.generator->length();
  layout.worker_offset = *first.worker_offset;
  layout.encapsulated = encapsulated_;
  const auto program = io::build_steering_program(layout);
  const io::UdpSocket* s = drivers_.front()->find_socket(address);
  if (s == nullptr || program.empty()) {
    std::fprintf(stderr, "error: cannot build the steering program for %u workers\n", size());
    return false;
  }
  if (auto ok = io::attach_steering_program(s->fd(), program); !ok) {
    std::fprintf(stderr, "error: cannot steer datagrams to workers on %s: %s\n", address.to_string().c_str(),
                 ok.error().message().c_str());
    return false;
  }
  return true;
}

bool WorkerGroup::add_socket(const SocketAddress& bind) {
  std::optional<SocketAddress> first;
  for (auto& d : drivers_) {
    auto a = d->add_socket(first.value_or(bind));
    if (!a) return false;
    if (!first) first = a;
  }
  return size() == 1 || steer(*first);
}

void WorkerGroup::run(const std::function<void(Driver&, std::uint32_t)>& serve) {
  if (size() == 1) {
    serve(*drivers_.front(), 0);
    return;
  }
  // The signal goes to this thread alone: block it here before the workers start (they inherit
  // the mask), wait for it, then stop every worker.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  std::vector<std::thread> threads;
  threads.reserve(size());
  for (std::uint32_t w = 0; w < size(); ++w) threads.emplace_back([&, w] { serve(*drivers_[w], w); });
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  for (auto& d : drivers_) d->stop();
  for (auto& t : threads) t.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

std::string WorkerGroup::summary(std::uint32_t w) const {
  const Driver& d = *drivers_[w];
  const auto& es = d.endpoint().stats();
  const auto& ds = d.stats();
  char line[512];
  std::snprintf(line, sizeof line,
                "worker %u: %llu connections accepted, %llu datagrams in, %llu dropped, %llu stateless resets sent",
                w, static_cast<unsigned long long>(es.connections_accepted),
                static_cast<unsigned long long>(es.datagrams_received),
                static_cast<unsigned long long>(es.datagrams_dropped),
                static_cast<unsigned long long>(es.stateless_resets_sent));
  std::string s = line;
  if (encapsulated_) {
    std::snprintf(line, sizeof line, "; %llu from load balancers, %llu to them, %llu badly encapsulated",
                  static_cast<unsigned long long>(ds.from_load_balancers),
                  static_cast<unsigned long long>(ds.to_load_balancers),
                  static_cast<unsigned long long>(ds.bad_encapsulation));
    s += line;
  }
  return s;
}

}  // namespace roam::apps
