// Shared pieces of the migration scenarios (roam issue 4): a client with a "Wi-Fi" and an "LTE"
// interface, path event queries, and a client TLS context that writes a key log so a
// WireObserver can decrypt 1-RTT packets.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

#include "netsim_app.h"
#include "netsim_observer.h"
#include "netsim_pair.h"

namespace roam::sim {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The client's first interface is Pair::client_addr (10.0.0.1): "Wi-Fi". Its second, on another
// IP so that it has links of its own: "LTE".
inline const SocketAddress kLteAddr = *SocketAddress::parse("10.0.1.1:50001");
// A second server address (preferred address scenarios).
inline const SocketAddress kServerAddr2 = *SocketAddress::parse("10.0.0.3:4434");

// 20 ms RTT, 50 Mbit/s, a queue of about two bandwidth-delay products.
inline LinkConfig wifi_link() {
  LinkConfig l;
  l.delay = milliseconds(10);
  l.loss = 0.0002;  // a little random loss, so every seed takes its own course
  l.rate_bytes_per_s = 50'000'000 / 8;
  l.queue_bytes = 250'000;
  return l;
}
// 60 ms RTT, 20 Mbit/s.
inline LinkConfig lte_link() {
  LinkConfig l;
  l.delay = milliseconds(30);
  l.loss = 0.0002;
  l.rate_bytes_per_s = 20'000'000 / 8;
  l.queue_bytes = 300'000;
  return l;
}
inline constexpr Duration kLteRtt = milliseconds(60);

template <class T>
std::vector<T> events_of(const std::vector<PathEventRecord>& log) {
  std::vector<T> out;
  for (const auto& r : log) {
    if (const auto* e = std::get_if<T>(&r.event)) out.push_back(*e);
  }
  return out;
}

inline std::size_t count_changes(const std::vector<PathEventRecord>& log, conn::PathChangeReason reason) {
  std::size_t n = 0;
  for (const auto& e : events_of<conn::PathChanged>(log)) n += e.reason == reason;
  return n;
}

inline std::string describe(const std::vector<PathEventRecord>& log) {
  std::string s;
  for (const auto& r : log) {
    s += format_duration(r.time.time_since_epoch()) + " ";
    if (const auto* v = std::get_if<conn::PathValidated>(&r.event)) {
      s += "validated " + v->local.to_string() + "->" + v->peer.to_string();
    } else if (const auto* f = std::get_if<conn::PathFailed>(&r.event)) {
      s += "failed " + f->local.to_string() + "->" + f->peer.to_string();
    } else if (const auto* c = std::get_if<conn::PathChanged>(&r.event)) {
      s += "changed(" + std::string(conn::to_string(c->reason)) + ") " + c->new_local.to_string() + "->" +
           c->new_peer.to_string();
    }
    s += "; ";
  }
  return s;
}

// A client TLS context that appends its secrets to a fresh key log file (removed with the
// object), restricted to AES-128-GCM so the observer knows the AEAD.
class KeyloggingClientTls {
 public:
  KeyloggingClientTls() {
    char tmpl[] = "/tmp/roam-sim-keylog-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) {
      ADD_FAILURE() << "mkstemp failed";
      return;
    }
    close(fd);
    path_ = tmpl;
    tls::ClientOptions co;
    co.alpn = {kAlpn};
    co.insecure_skip_verify = true;
    co.keylog_file = path_;
    co.ciphers = {tls::Aead::kAes128Gcm};
    auto r = tls::TlsContext::create_client(co);
    if (!r) {
      ADD_FAILURE() << "client TLS context: " << r.error().reason;
      return;
    }
    ctx_ = *r;
  }
  ~KeyloggingClientTls() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  KeyloggingClientTls(const KeyloggingClientTls&) = delete;
  KeyloggingClientTls& operator=(const KeyloggingClientTls&) = delete;

  std::shared_ptr<tls::TlsContext> context() const { return ctx_; }
  // Lets `obs` decrypt 1-RTT packets (it reads the key log when the first one appears).
  void give_keys(WireObserver& obs) const { obs.set_keylog(path_, crypto::AeadAlgorithm::kAes128Gcm); }

 private:
  std::string path_;
  std::shared_ptr<tls::TlsContext> ctx_;
};

}  // namespace roam::sim
