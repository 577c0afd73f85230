// roam-server: serves files over HTTP/3 (h3) and HTTP/0.9 (hq-interop), from --root or the
// built-in demo site, and the perf and echo protocols over QUIC, to many connections at once.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <unordered_map>

#include "command_line.h"
#include "driver.h"
#include "lb_backend.h"
#include "server_workers.h"
#include "qlog_dir.h"
#include "crypto/system_random.h"
#include "h3/message.h"
#include "hq.h"
#include "server_protocol.h"
#include "site.h"
#include "tls/context.h"

using namespace roam;

namespace {

struct ConnectionState {
  std::string tag;  // "[worker K] " with --workers, else empty
  std::string peer;
  std::unique_ptr<apps::ServerProtocol> protocol;  // set once the handshake chose an ALPN
  std::uint64_t path_changes_seen = 0;
};

void print_closed(const ConnectionState& st, const conn::Connection& c) {
  const auto stats = c.stats();
  const apps::ServerProtocol* p = st.protocol.get();
  std::printf("%sconnection from %s closed: %llu requests, %llu bytes sent, %llu packets lost (ALPN %s, %llu refused)\n",
              st.tag.c_str(), st.peer.c_str(), static_cast<unsigned long long>(p ? p->requests() : 0),
              static_cast<unsigned long long>(p ? p->bytes_sent() : 0),
              static_cast<unsigned long long>(stats.packets_lost), c.alpn().empty() ? "none" : c.alpn().c_str(),
              static_cast<unsigned long long>(p ? p->refused() : 0));
  if (c.read_key_generation() > 0 || c.write_key_generation() > 0) {
    std::printf("%s  key updates: 1-RTT keys at generation %llu (receiving), %llu (sending)\n",
                st.tag.c_str(), static_cast<unsigned long long>(c.read_key_generation()),
                static_cast<unsigned long long>(c.write_key_generation()));
  }
  if (stats.resumed) {
    std::printf("  session resumed%s (%llu 0-RTT packets)\n", stats.zero_rtt_accepted ? ", 0-RTT accepted" : "",
                static_cast<unsigned long long>(stats.zero_rtt_packets_received));
  }
  if (stats.paths_probed > 0 || stats.migrations > 0) {
    std::printf("%s  paths: %llu probed, %llu validated, %llu failed; %llu migrations (%llu NAT rebindings); "
                "CIDs: %llu issued, %llu retired by the peer, %llu of the peer's retired\n",
                st.tag.c_str(), static_cast<unsigned long long>(stats.paths_probed), static_cast<unsigned long long>(stats.paths_validated),
                static_cast<unsigned long long>(stats.paths_failed), static_cast<unsigned long long>(stats.migrations),
                static_cast<unsigned long long>(stats.nat_rebindings), static_cast<unsigned long long>(stats.cids_issued),
                static_cast<unsigned long long>(stats.cids_retired),
                static_cast<unsigned long long>(stats.peer_cids_retired));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"roam-server: a QUIC server (HTTP/3 and HTTP/0.9 file serving, perf, echo)"};
  std::string listen = "0.0.0.0:4433";
  std::string alpn_list;
  std::string cert, key, keylog, root, qlog_dir;
  std::string cc = "cubic";
  std::size_t max_connections = 10'000;
  bool quiet = false;
  bool retry = false;
  bool log_requests = false;
  std::string preferred;           // --preferred-address (migration, RFC 9000 9.6)
  bool disable_migration = false;  // --disable-active-migration
  std::uint32_t workers = 1;       // --workers (apps/server_workers.h)
  apps::LbBackendOptions lb_options;  // --lb-config, --server-id, --behind-lb, ... (apps/lb_backend.h)
  app.add_option("--listen", listen, "ADDRESS:PORT to listen on")->capture_default_str()->type_name("ADDR:PORT");
  app.add_option("--alpn", alpn_list,
                 "comma-separated ALPNs offered, in order of preference, from h3, hq-interop, perf, echo, "
                 "quic-echo (default: all, h3 first)");
  app.add_option("--root", root, "serve the files under DIR over h3 and hq-interop (default: the built-in demo site)")
      ->check(CLI::ExistingDirectory)
      ->type_name("DIR");
  app.add_option("--cert", cert, "certificate (PEM); a self-signed one is generated when absent")->type_name("FILE");
  app.add_option("--key", key, "private key (PEM) for --cert")->type_name("FILE");
  app.add_option("--keylog", keylog, "append TLS secrets here (NSS key log format; default $SSLKEYLOGFILE)")
      ->type_name("FILE");
  app.add_option("--qlog-dir", qlog_dir, "write a qlog file (JSON-SEQ) per connection into DIR")->type_name("DIR");
  app.add_option("--cc", cc, "congestion control: cubic or newreno")
      ->check(CLI::IsMember({"cubic", "newreno"}))
      ->capture_default_str();
  app.add_option("--max-connections", max_connections, "refuse new connections beyond this many")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--retry", retry, "send Retry to every new client first (address validation, RFC 9000 8.1.2)");
  app.add_option("--preferred-address", preferred,
                 "also listen on ADDRESS:PORT and advertise it as the preferred address (RFC 9000 9.6)")
      ->type_name("ADDR:PORT");
  app.add_flag("--disable-active-migration", disable_migration,
               "ask clients not to migrate (NAT rebindings are still followed)");
  app.add_flag("--log-requests", log_requests,
               "print one line per h3/hq-interop request: 'request PEER ALPN METHOD TARGET STATUS BYTES'");
  app.add_option("--workers", workers,
                 "worker threads, each with its own endpoint and SO_REUSEPORT socket on the port; datagrams are "
                 "steered to the worker named in their CID (1-256)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  apps::add_lb_backend_options(app, lb_options);
  app.add_flag("-q,--quiet", quiet, "print only errors (and requests, with --log-requests)");
  if (auto rc = apps::parse_command_line(app, argc, argv)) return *rc;

  auto bind = SocketAddress::parse(listen);
  if (!bind) {
    std::fprintf(stderr, "error: --listen wants ADDRESS:PORT (e.g. 0.0.0.0:4433 or [::1]:4433), got '%s'\n",
                 listen.c_str());
    return apps::kExitUsage;
  }
  if ((cert.empty()) != (key.empty())) {
    std::fprintf(stderr, "error: --cert and --key go together\n");
    return apps::kExitUsage;
  }
  apps::ServerSettings settings;
  settings.site = root.empty() ? apps::make_builtin_site() : apps::make_directory_site(root);
  if (log_requests) {
    settings.log = [](const conn::Connection& c, const apps::RequestLogEntry& e) {
      std::printf("request %s %.*s %.*s %.*s %d %llu\n", c.peer_address().to_string().c_str(),
                  static_cast<int>(e.alpn.size()), e.alpn.data(), static_cast<int>(e.method.size()), e.method.data(),
                  static_cast<int>(e.target.size()), e.target.data(), e.status,
                  static_cast<unsigned long long>(e.bytes));
    };
  }
  std::vector<std::string> alpns;
  if (alpn_list.empty()) {
    alpns = apps::server_alpns();
  } else {
    for (auto& a : CLI::detail::split(alpn_list, ',')) {
      if (!apps::is_server_alpn(a)) {
        std::fprintf(stderr, "error: --alpn: roam-server does not speak '%s' (h3, hq-interop, perf, echo, quic-echo)\n",
                     a.c_str());
        return apps::kExitUsage;
      }
      alpns.push_back(a);
    }
  }
  std::string alpn_text;
  for (const auto& a : alpns) alpn_text += (alpn_text.empty() ? "" : ",") + a;
  if (keylog.empty()) {
    if (const char* env = std::getenv("SSLKEYLOGFILE")) keylog = env;
  }
  tls::ServerOptions so;
  so.alpn = alpns;
  so.cert_file = cert;
  so.key_file = key;
  so.keylog_file = keylog;
  so.self_signed.dns_names = {"localhost"};
  so.self_signed.ip_addresses = {"127.0.0.1", "::1"};
  so.self_signed.now = std::chrono::system_clock::now();
  auto ctx = tls::TlsContext::create_server(so);
  if (!ctx) {
    std::fprintf(stderr, "error: TLS setup failed: %s\n", std::string(ctx.error().reason).c_str());
    return 1;
  }
  endpoint::EndpointConfig ec;
  ec.server = true;
  ec.max_connections = max_connections;
  ec.require_retry = retry;
  ec.connection.congestion_control =
      cc == "newreno" ? conn::CongestionControl::kNewReno : conn::CongestionControl::kCubic;
  if (!qlog_dir.empty()) {
    std::string qerr;
    if (!apps::enable_qlog_dir(qlog_dir, ec.connection, qerr)) {
      std::fprintf(stderr, "error: %s\n", qerr.c_str());
      return 1;
    }
  }
  ec.connection.disable_active_migration = disable_migration;
  std::optional<SocketAddress> preferred_addr;
  if (!preferred.empty()) {
    preferred_addr = SocketAddress::parse(preferred);
    if (!preferred_addr || preferred_addr->is_unspecified() || preferred_addr->port() == 0) {
      std::fprintf(stderr, "error: --preferred-address wants a concrete ADDRESS:PORT, got '%s'\n", preferred.c_str());
      return 2;
    }
    (preferred_addr->is_ipv4() ? ec.connection.preferred_address_v4 : ec.connection.preferred_address_v6) =
        preferred_addr;
  }
  auto lb_backend = apps::resolve_lb_backend(lb_options);
  if (!lb_backend) {
    std::fprintf(stderr, "error: %s\n", lb_backend.error().c_str());
    return apps::kExitUsage;
  }
  if (!lb_backend->reset_key.empty()) ec.connection.reset_key = lb_backend->reset_key;
  apps::WorkerGroupOptions wo;
  wo.workers = workers;
  wo.load_balancers = lb_backend->load_balancers;
  {
    crypto::SystemRandom rng;
    auto cids = apps::make_worker_cids(*lb_backend, workers, ec.connection.local_cid_length, rng);
    if (!cids) {
      std::fprintf(stderr, "error: %s\n", cids.error().c_str());
      return apps::kExitUsage;
    }
    wo.cids = std::move(cids).value();
  }
  auto group = apps::WorkerGroup::create(*bind, ec, *ctx, wo);
  if (!group) return 1;
  if (preferred_addr && !group->add_socket(*preferred_addr)) return 1;
  if (!quiet) {
    std::printf("roam-server listening on %s (ALPN %s)\n", group->address().to_string().c_str(), alpn_text.c_str());
    if (workers > 1 || lb_backend->config) {
      std::printf("%u worker%s; CIDs: %s\n", workers, workers > 1 ? "s" : "",
                  apps::describe_cids(*lb_backend, wo.cids).c_str());
    }
    for (const auto& a : lb_backend->load_balancers) std::printf("behind load balancer %s\n", a.to_string().c_str());
    if (preferred_addr) std::printf("preferred address %s\n", preferred_addr->to_string().c_str());
    std::printf("serving %s\n", settings.site->description().c_str());
    if (cert.empty()) {
      std::printf("self-signed certificate, SHA-256 fingerprint %s\n",
                  (*ctx)->certificate()->sha256_fingerprint().c_str());
      std::printf("SPKI SHA-256 (base64) %s\n", (*ctx)->certificate()->spki_sha256_base64().c_str());
    }
    std::fflush(stdout);
  }

  group->run([&](apps::Driver& driver, std::uint32_t worker) {
  const std::string tag = workers > 1 ? "[worker " + std::to_string(worker) + "] " : "";
  std::unordered_map<endpoint::ConnectionHandle, ConnectionState> states;
  auto& ep = driver.endpoint();
  driver.run([] { return false; },
              [&] {
                while (auto h = ep.accept()) {
                  auto* c = ep.connection(*h);
                  if (!c) continue;
                  auto& st = states[*h];
                  st.tag = tag;
                  st.peer = c->peer_address().to_string();
                  if (!quiet) std::printf("%sconnection from %s\n", tag.c_str(), st.peer.c_str());
                }
                ep.for_each_connection([&](endpoint::ConnectionHandle h, conn::Connection& c) {
                  auto it = states.find(h);
                  if (it == states.end()) return;
                  ConnectionState& st = it->second;
                  if (c.is_closing()) {
                    while (c.poll_event()) {
                    }
                    if (!quiet) print_closed(st, c);
                    states.erase(it);
                    return;
                  }
                  if (!c.is_handshake_complete()) return;
                  if (!st.protocol) {
                    st.protocol = apps::make_server_protocol(c.alpn(), settings);
                    if (!st.protocol) {
                      c.close(0x1, "no application protocol");  // cannot happen: TLS checked the ALPN
                      return;
                    }
                  }
                  st.protocol->pump(c);
                  // One line per path change (reasons: migration, nat-rebinding, preferred-address,
                  // and fallback when a new path failed validation).
                  for (const auto& pc : c.path_changes_since(st.path_changes_seen)) {
                    if (!quiet) {
                      std::printf("%spath changed %s -> %s (%s)\n", tag.c_str(), pc.old_peer.to_string().c_str(),
                                  pc.new_peer.to_string().c_str(), std::string(conn::to_string(pc.reason)).c_str());
                    }
                    st.peer = pc.new_peer.to_string();
                  }
                  st.path_changes_seen = c.stats().migrations;
                });
                if (states.size() > ep.connection_count()) {
                  // Connections the endpoint dropped without our seeing them close.
                  std::erase_if(states, [&](const auto& kv) { return ep.connection(kv.first) == nullptr; });
                }
                std::fflush(stdout);  // connection and request lines reach a pipe promptly
              });
  });
  if (!quiet && (workers > 1 || !lb_backend->load_balancers.empty())) {
    for (std::uint32_t w = 0; w < group->size(); ++w) std::printf("%s\n", group->summary(w).c_str());
  }
  return 0;
}
