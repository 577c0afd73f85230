// Shared fixtures for the TLS tests: contexts with a generated certificate and an in-memory
// shuttle that carries handshake bytes between a client and a server session, level by level.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tls/context.h"
#include "tls/session.h"

namespace roam::tls::testing {

inline std::chrono::system_clock::time_point now() { return std::chrono::system_clock::now(); }

// One certificate for the whole test binary: generating is cheap, but sharing keeps tests fast.
inline const Certificate& test_certificate() {
  static const Certificate cert = [] {
    SelfSignedOptions o;
    o.now = now();
    auto c = Certificate::generate_self_signed(o);
    EXPECT_TRUE(c.ok());
    return std::move(c.value());
  }();
  return cert;
}

inline std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

inline std::shared_ptr<TlsContext> server_context(ServerOptions o = {}) {
  if (!o.certificate && o.cert_file.empty()) o.certificate = test_certificate();
  if (o.alpn.empty()) o.alpn = {"hq-interop", "h3"};
  auto ctx = TlsContext::create_server(std::move(o));
  EXPECT_TRUE(ctx.ok()) << (ctx.ok() ? "" : ctx.error().reason);
  return ctx.ok() ? ctx.value() : nullptr;
}

// A client trusting the shared test certificate.
inline std::shared_ptr<TlsContext> client_context(ClientOptions o = {}) {
  if (o.ca_pem.empty() && o.ca_file.empty() && !o.insecure_skip_verify) {
    o.ca_pem = test_certificate().cert_pem();
  }
  if (o.alpn.empty()) o.alpn = {"h3"};
  auto ctx = TlsContext::create_client(std::move(o));
  EXPECT_TRUE(ctx.ok()) << (ctx.ok() ? "" : ctx.error().reason);
  return ctx.ok() ? ctx.value() : nullptr;
}

// Everything one side produced, collected as the shuttle runs.
struct Side {
  std::unique_ptr<TlsSession> session;
  std::vector<SecretEvent> secrets;
  std::optional<Error> error;  // the error provide_data/start returned on this side

  void drain_secrets() {
    while (auto ev = session->poll_secret()) secrets.push_back(std::move(*ev));
  }
  const SecretEvent* find(Level level, Direction dir) const {
    for (const auto& s : secrets) {
      if (s.level == level && s.direction == dir) return &s;
    }
    return nullptr;
  }
};

inline std::vector<std::uint8_t> client_params() {
  return bytes_of("client-transport-params\x01\x02");
}
inline std::vector<std::uint8_t> server_params() { return bytes_of("server-transport-params\x03"); }

struct Pair {
  Side client;
  Side server;

  // Moves all pending output of `from` into `to`. Returns false once `to` fails.
  static bool deliver(Side& from, Side& to) {
    Level level;
    std::vector<std::uint8_t> data;
    while (from.session->take_output(level, data)) {
      auto st = to.session->provide_data(level, data);
      to.drain_secrets();
      if (!st) {
        to.error = st.error();
        return false;
      }
    }
    return true;
  }

  // Runs the handshake to completion or to the first error. Returns true if both completed.
  bool run() {
    auto st = client.session->start();
    client.drain_secrets();
    if (!st) {
      client.error = st.error();
      return false;
    }
    return finish();
  }

  // Shuttles whatever is pending until both complete or one fails.
  bool finish() {
    for (int round = 0; round < 10; ++round) {
      if (!deliver(client, server)) return false;
      if (!deliver(server, client)) return false;
      if (client.session->handshake_complete() && server.session->handshake_complete()) {
        // Flush anything left (e.g. session tickets) and stop.
        if (!deliver(client, server) || !deliver(server, client)) return false;
        return true;
      }
    }
    return false;
  }
};

inline Pair make_pair(std::shared_ptr<TlsContext> client_ctx,
                      std::shared_ptr<TlsContext> server_ctx,
                      std::string_view server_name = "localhost") {
  Pair p;
  auto c = TlsSession::create(std::move(client_ctx), client_params(), server_name);
  auto s = TlsSession::create(std::move(server_ctx), server_params());
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().reason);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().reason);
  if (c.ok()) p.client.session = std::move(c.value());
  if (s.ok()) p.server.session = std::move(s.value());
  return p;
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "roam-tls-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  std::string file(std::string_view name) const { return (path_ / name).string(); }
  bool ok() const { return !path_.empty(); }

 private:
  std::filesystem::path path_;
};

}  // namespace roam::tls::testing
