// roam-client: connects to a QUIC server and runs a perf download (or an echo round trip),
// checking every byte it receives.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "driver.h"
#include "perf.h"
#include "tls/context.h"

using namespace roam;

namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB"};
  int u = 0;
  while (b >= 1000 && u < 3) {
    b /= 1000;
    ++u;
  }
  char s[32];
  std::snprintf(s, sizeof s, "%.1f %s", b, units[u]);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"roam-client: a QUIC client (perf download, echo)"};
  std::string server;
  std::string alpn = "perf";
  std::uint64_t perf_bytes = 10'000'000;
  std::string ca, keylog, bind_addr, sni = "localhost";
  std::string echo_text = "hello from roam";
  bool insecure = false;
  double timeout_s = 30;
  app.add_option("server", server, "server ADDRESS:PORT, e.g. 127.0.0.1:4433")->required();
  app.add_option("--alpn", alpn, "application protocol: perf or echo")->capture_default_str();
  app.add_option("--perf", perf_bytes, "perf: bytes to download")->capture_default_str();
  app.add_option("--echo", echo_text, "echo: text to send");
  app.add_option("--ca", ca, "trust this CA certificate (PEM) instead of the system store");
  app.add_flag("--insecure", insecure, "do not verify the server certificate (testing only)");
  app.add_option("--sni", sni, "server name to send and verify")->capture_default_str();
  app.add_option("--bind", bind_addr, "local ADDRESS:PORT (default: any, port chosen by the kernel)");
  app.add_option("--keylog", keylog, "append TLS secrets here (NSS key log format; default $SSLKEYLOGFILE)");
  app.add_option("--timeout", timeout_s, "give up after this many seconds")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto peer = SocketAddress::parse(server);
  if (!peer) {
    std::fprintf(stderr, "error: server must be ADDRESS:PORT (e.g. 127.0.0.1:4433 or [::1]:4433), got '%s'\n",
                 server.c_str());
    return 2;
  }
  SocketAddress local = peer->is_ipv4() ? SocketAddress::any_ipv4() : SocketAddress::any_ipv6();
  if (!bind_addr.empty()) {
    auto b = SocketAddress::parse(bind_addr);
    if (!b) {
      std::fprintf(stderr, "error: --bind wants ADDRESS:PORT, got '%s'\n", bind_addr.c_str());
      return 2;
    }
    local = *b;
  }
  if (keylog.empty()) {
    if (const char* env = std::getenv("SSLKEYLOGFILE")) keylog = env;
  }
  tls::ClientOptions co;
  co.alpn = {alpn};
  co.ca_file = ca;
  co.insecure_skip_verify = insecure;
  co.keylog_file = keylog;
  auto ctx = tls::TlsContext::create_client(co);
  if (!ctx) {
    std::fprintf(stderr, "error: TLS setup failed: %.*s\n", static_cast<int>(ctx.error().reason.size()),
                 ctx.error().reason.data());
    return 1;
  }
  endpoint::EndpointConfig ec;
  auto driver = apps::Driver::create(local, ec, *ctx);
  if (!driver) return 1;
  auto& ep = driver->endpoint();
  const Instant start = driver->now();
  auto h = ep.connect(sni, driver->socket().local_address(), *peer, start);
  if (!h) {
    std::fprintf(stderr, "error: cannot start connection: %.*s\n", static_cast<int>(h.error().reason.size()),
                 h.error().reason.data());
    return 1;
  }
  conn::Connection* c = ep.connection(*h);
  const bool tty = isatty(STDERR_FILENO);
  std::optional<StreamId> sid;
  std::optional<Instant> transfer_start;
  std::uint64_t received = 0, mismatches = 0;
  std::string echo_back;
  bool done = false, failed = false;
  std::string failure;
  std::vector<std::uint8_t> buf(256 * 1024);
  Instant last_progress = start;

  driver->run([&] { return done; },
              [&] {
                const Instant now = driver->now();
                while (auto ev = c->poll_event()) {
                  if (auto* cl = std::get_if<conn::ConnectionClosed>(&*ev)) {
                    if (!done) {
                      failed = true;
                      failure = cl->idle_timeout ? "connection timed out (no answer from " + server + ")"
                                                 : "connection closed: " + cl->reason + " (code " +
                                                       std::to_string(cl->error_code) + ")";
                      done = true;
                    }
                  }
                }
                if (done) return;
                if (now - start > std::chrono::duration<double>(timeout_s)) {
                  failed = true;
                  failure = "timed out after " + std::to_string(static_cast<int>(timeout_s)) + " s";
                  done = true;
                  return;
                }
                if (!c->is_handshake_complete()) return;
                if (!sid) {
                  auto s = c->open_stream(true);
                  if (!s) return;
                  sid = *s;
                  transfer_start = now;
                  if (alpn == "perf") {
                    std::uint8_t req[8];
                    for (int i = 0; i < 8; ++i) req[i] = static_cast<std::uint8_t>(perf_bytes >> (56 - 8 * i));
                    (void)c->write(*sid, Bytes(req, 8), true);
                  } else {
                    (void)c->write(*sid, Bytes(reinterpret_cast<const std::uint8_t*>(echo_text.data()), echo_text.size()),
                                   true);
                  }
                }
                for (;;) {
                  auto r = c->read(*sid, buf);
                  if (!r || (r->bytes == 0 && !r->fin && !r->reset)) break;
                  if (alpn == "perf") {
                    mismatches += apps::perf_mismatches(received, Bytes(buf.data(), r->bytes));
                  } else {
                    echo_back.append(reinterpret_cast<const char*>(buf.data()), r->bytes);
                  }
                  received += r->bytes;
                  if (r->reset) {
                    failed = true;
                    failure = "server reset the stream";
                    done = true;
                    break;
                  }
                  if (r->fin) {
                    done = true;
                    break;
                  }
                }
                if (tty && alpn == "perf" && now - last_progress > std::chrono::milliseconds(200)) {
                  last_progress = now;
                  const int pct = perf_bytes ? static_cast<int>(100.0 * static_cast<double>(received) /
                                                                static_cast<double>(perf_bytes))
                                             : 100;
                  std::fprintf(stderr, "\r[%-40s] %3d%% %s", std::string(static_cast<std::size_t>(pct * 40 / 100), '#').c_str(),
                               pct, human_bytes(static_cast<double>(received)).c_str());
                }
              });
  if (tty && alpn == "perf") std::fprintf(stderr, "\n");
  const Instant end = driver->now();
  if (failed) {
    std::fprintf(stderr, "error: %s\n", failure.c_str());
    return 1;
  }
  if (!done) {
    std::fprintf(stderr, "error: interrupted\n");
    return 1;
  }
  const auto st = c->stats();
  c->close(0, "done");
  driver->run([&] { return c->is_closed() || !c->is_closing(); }, [] {});
  const double secs = std::chrono::duration<double>(end - (transfer_start ? *transfer_start : start)).count();
  if (alpn == "perf") {
    if (received != perf_bytes || mismatches != 0) {
      std::fprintf(stderr, "error: received %llu of %llu bytes, %llu wrong\n", static_cast<unsigned long long>(received),
                   static_cast<unsigned long long>(perf_bytes), static_cast<unsigned long long>(mismatches));
      return 1;
    }
    std::printf("received %s in %.3f s, goodput %.1f Mbit/s, rtt %.2f ms, %llu packets lost, all bytes verified\n",
                human_bytes(static_cast<double>(received)).c_str(), secs,
                secs > 0 ? static_cast<double>(received) * 8 / secs / 1e6 : 0.0,
                std::chrono::duration<double, std::milli>(st.smoothed_rtt).count(),
                static_cast<unsigned long long>(st.packets_lost));
  } else {
    if (echo_back != echo_text) {
      std::fprintf(stderr, "error: echo mismatch: sent '%s', got '%s'\n", echo_text.c_str(), echo_back.c_str());
      return 1;
    }
    std::printf("echo: %s (%.2f ms)\n", echo_back.c_str(), secs * 1000);
  }
  return 0;
}
