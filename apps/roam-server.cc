// roam-server: serves the perf and echo protocols over QUIC.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "driver.h"
#include "perf.h"
#include "tls/context.h"

using namespace roam;

int main(int argc, char** argv) {
  CLI::App app{"roam-server: a QUIC server (perf and echo protocols)"};
  std::string listen = "0.0.0.0:4433";
  std::string alpn_list = "perf,echo,quic-echo";
  std::string cert, key, keylog;
  std::string cc = "cubic";
  bool quiet = false;
  app.add_option("--listen", listen, "address:port to listen on")->capture_default_str();
  app.add_option("--alpn", alpn_list, "comma-separated ALPNs offered")->capture_default_str();
  app.add_option("--cert", cert, "certificate (PEM); a self-signed one is generated when absent");
  app.add_option("--key", key, "private key (PEM) for --cert");
  app.add_option("--keylog", keylog, "append TLS secrets here (NSS key log format; default $SSLKEYLOGFILE)");
  app.add_option("--cc", cc, "congestion control: cubic or newreno")->check(CLI::IsMember({"cubic", "newreno"}));
  app.add_flag("-q,--quiet", quiet, "print only errors");
  CLI11_PARSE(app, argc, argv);

  auto bind = SocketAddress::parse(listen);
  if (!bind) {
    std::fprintf(stderr, "error: --listen wants ADDRESS:PORT (e.g. 0.0.0.0:4433 or [::1]:4433), got '%s'\n",
                 listen.c_str());
    return 2;
  }
  if (keylog.empty()) {
    if (const char* env = std::getenv("SSLKEYLOGFILE")) keylog = env;
  }
  tls::ServerOptions so;
  for (auto& a : CLI::detail::split(alpn_list, ',')) so.alpn.push_back(a);
  so.cert_file = cert;
  so.key_file = key;
  so.keylog_file = keylog;
  so.self_signed.dns_names = {"localhost"};
  so.self_signed.ip_addresses = {"127.0.0.1", "::1"};
  so.self_signed.now = std::chrono::system_clock::now();
  auto ctx = tls::TlsContext::create_server(so);
  if (!ctx) {
    std::fprintf(stderr, "error: TLS setup failed: %.*s\n", static_cast<int>(ctx.error().reason.size()),
                 ctx.error().reason.data());
    return 1;
  }
  endpoint::EndpointConfig ec;
  ec.server = true;
  ec.connection.congestion_control = cc == "newreno" ? conn::CongestionControl::kNewReno : conn::CongestionControl::kCubic;
  auto driver = apps::Driver::create(*bind, ec, *ctx);
  if (!driver) return 1;
  if (!quiet) {
    std::printf("roam-server listening on %s (ALPN %s)\n", driver->socket().local_address().to_string().c_str(),
                alpn_list.c_str());
    if (cert.empty()) {
      std::printf("self-signed certificate, SHA-256 fingerprint %s\n",
                  (*ctx)->certificate()->sha256_fingerprint().c_str());
      std::printf("SPKI SHA-256 (base64) %s\n", (*ctx)->certificate()->spki_sha256_base64().c_str());
    }
    std::fflush(stdout);
  }
  std::unordered_map<endpoint::ConnectionHandle, apps::ServerApp> apps_by_conn;
  auto& ep = driver->endpoint();
  driver->run([] { return false; },
              [&] {
                while (auto h = ep.accept()) {
                  if (!quiet) {
                    auto* c = ep.connection(*h);
                    std::printf("connection from %s\n", c->peer_address().to_string().c_str());
                    std::fflush(stdout);
                  }
                }
                ep.for_each_connection([&](endpoint::ConnectionHandle h, conn::Connection& c) {
                  if (c.is_closing()) {
                    auto it = apps_by_conn.find(h);
                    if (it == apps_by_conn.end()) return;
                    if (!quiet) {
                      const auto st = c.stats();
                      std::printf("connection from %s closed: %llu requests, %llu bytes sent, %llu packets lost\n",
                                  c.peer_address().to_string().c_str(),
                                  static_cast<unsigned long long>(it->second.requests()),
                                  static_cast<unsigned long long>(it->second.bytes_sent()),
                                  static_cast<unsigned long long>(st.packets_lost));
                      std::fflush(stdout);
                    }
                    apps_by_conn.erase(it);
                    return;
                  }
                  if (!c.is_handshake_complete()) return;
                  auto it = apps_by_conn.find(h);
                  if (it == apps_by_conn.end()) it = apps_by_conn.emplace(h, apps::ServerApp(c.alpn())).first;
                  it->second.pump(c);
                });
              });
  return 0;
}
