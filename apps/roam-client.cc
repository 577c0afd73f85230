// roam-client: fetches URLs over QUIC. HTTP/3 (h3) downloads by default; HTTP/0.9 (--alpn
// hq-interop), perf (--perf N: a verified download of N bytes) and echo (--echo TEXT) on request.
// URLs to the same server share one connection, as concurrent streams.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "client_connection.h"
#include "command_line.h"
#include "driver.h"
#include "h3/message.h"
#include "h3_client.h"
#include "qlog_dir.h"
#include "hq.h"
#include "migration_control.h"
#include "session_file.h"
#include "output.h"
#include "perf.h"
#include "progress.h"
#include "tls/context.h"
#include "url.h"

using namespace roam;
namespace fs = std::filesystem;

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitInterrupted = 130;

int usage_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return apps::kExitUsage;
}

int failure(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return kExitFailed;
}

struct Options {
  std::vector<std::string> urls;
  std::string alpn;
  std::optional<std::uint64_t> perf_bytes;
  std::optional<std::string> echo_text;
  std::string download_dir, output;
  std::string ca, keylog, bind, sni, qlog_dir, session_file;
  std::string cc = "cubic";
  bool insecure = false;
  bool quiet = false;
  bool head = false;
  double timeout_s = 10;
  double max_time_s = 0;
  // Connection migration (roam's reason to exist): see migration_control.h.
  std::string migrate_after, migrate_to, rebind_after, key_update_after;
  bool migrate_now = false;
  bool follow_network = false;
};

// The servers to connect to, in the order the user named them, each with its URLs.
struct Target {
  apps::Url first;
  std::vector<apps::Url> urls;
};

// Builds one exchange per URL for the chosen protocol; returns an error message on failure.
std::optional<std::string> make_exchanges(const Options& o, const std::vector<Target>& targets,
                                          apps::OrderedOutputs& stdout_outputs,
                                          std::vector<std::vector<std::unique_ptr<apps::Exchange>>>& out) {
  for (const auto& t : targets) {
    auto& list = out.emplace_back();
    for (const auto& u : t.urls) {
      if (o.alpn == "perf") {
        list.push_back(std::make_unique<apps::PerfExchange>(u.to_string(), *o.perf_bytes));
      } else if (o.alpn == "echo" || o.alpn == "quic-echo") {
        list.push_back(std::make_unique<apps::EchoExchange>(u.to_string(), *o.echo_text));
      } else {
        std::unique_ptr<apps::Output> sink;
        std::string error;
        if (!o.download_dir.empty()) {
          sink = apps::make_file_output(fs::path(o.download_dir) / apps::file_name_for(u.path), error);
        } else if (!o.output.empty() && o.output != "-") {
          sink = apps::make_file_output(o.output, error);
        } else {
          sink = stdout_outputs.next();
        }
        if (!sink) return error;
        if (o.alpn == h3::kAlpn) {
          list.push_back(std::make_unique<apps::H3Download>(u, std::move(sink), o.head));
        } else {
          list.push_back(std::make_unique<apps::HqDownload>(u, std::move(sink)));
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"roam-client: fetches URLs over QUIC (HTTP/3; HTTP/0.9 as hq-interop; perf and echo)"};
  Options o;
  std::uint64_t perf_bytes = 0;
  std::string echo_text;
  app.add_option("url", o.urls, "https://HOST[:PORT]/PATH (or HOST:PORT); several to one server share a connection")
      ->required();
  auto* alpn_opt =
      app.add_option("--alpn", o.alpn, "application protocol: h3 (default), hq-interop, perf, echo, quic-echo");
  auto* head_opt = app.add_flag("--head", o.head, "h3: send HEAD and print each response's status and header fields");
  auto* perf_opt = app.add_option("--perf", perf_bytes, "perf: download N bytes and verify each (implies --alpn perf)")
                       ->type_name("N");
  auto* echo_opt = app.add_option("--echo", echo_text, "echo: send TEXT and expect it back (implies --alpn echo)");
  auto* dl_opt = app.add_option("--download", o.download_dir, "save each URL's body in DIR, named after its path")
                    ->type_name("DIR");
  app.add_option("-o,--output", o.output, "save the body in FILE ('-': standard output, the default)")
      ->type_name("FILE")
      ->excludes(dl_opt);
  app.add_option("--ca", o.ca, "trust this CA certificate (PEM) instead of the system store")->type_name("FILE");
  app.add_flag("--insecure", o.insecure, "do not verify the server certificate (testing only)");
  app.add_option("--sni", o.sni, "server name to send and verify (default: the URL's host)");
  app.add_option("--bind", o.bind, "local ADDRESS:PORT (default: any, port chosen by the kernel)")
      ->type_name("ADDR:PORT");
  app.add_option("--session-file", o.session_file,
                 "resume the TLS session saved in FILE (0-RTT requests when the server allows) and save the new "
                 "one there (one server only)")
      ->type_name("FILE");
  app.add_option("--keylog", o.keylog, "append TLS secrets here (NSS key log format; default $SSLKEYLOGFILE)")
      ->type_name("FILE");
  app.add_option("--qlog-dir", o.qlog_dir, "write a qlog file (JSON-SEQ) per connection into DIR")->type_name("DIR");
  app.add_option("--cc", o.cc, "congestion control: cubic or newreno")
      ->check(CLI::IsMember({"cubic", "newreno"}))
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "give up when the handshake has not completed after S seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-time", o.max_time_s, "give up when everything has not finished after S seconds (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--migrate-after", o.migrate_after,
                 "migrate to another local address after DURATION (e.g. 2s, 300ms): probe, then switch")
      ->type_name("DURATION");
  app.add_option("--migrate-to", o.migrate_to, "local ADDRESS:PORT for --migrate-after (default: same IP, new port)")
      ->type_name("ADDR:PORT");
  app.add_flag("--migrate-now", o.migrate_now,
               "with --migrate-after: switch at once and validate in parallel (the old interface is gone)");
  app.add_option("--rebind-after", o.rebind_after,
                 "simulate a NAT rebinding after DURATION: new local port, same CID, no probing")
      ->type_name("DURATION");
  app.add_option("--key-update-after", o.key_update_after, "start a 1-RTT key update after DURATION")
      ->type_name("DURATION");
  app.add_flag("--follow-network", o.follow_network,
               "watch addresses and routes (rtnetlink) and move the connection when the network changes");
  app.add_flag("-q,--quiet", o.quiet, "no progress bar and no summary; errors only");
  if (auto rc = apps::parse_command_line(app, argc, argv)) return *rc;

  // The protocol.
  if (*perf_opt) {
    if (*alpn_opt && o.alpn != "perf") return usage_error("--perf needs --alpn perf");
    o.alpn = "perf";
    o.perf_bytes = perf_bytes;
  }
  if (*echo_opt) {
    if (*perf_opt) return usage_error("--perf and --echo are different protocols: choose one");
    if (*alpn_opt && o.alpn != "echo" && o.alpn != "quic-echo") return usage_error("--echo needs --alpn echo");
    if (!*alpn_opt) o.alpn = "echo";
    o.echo_text = echo_text;
  }
  if (o.alpn.empty()) o.alpn = std::string(h3::kAlpn);
  if (o.alpn == "perf" && !o.perf_bytes) o.perf_bytes = 10'000'000;
  if ((o.alpn == "echo" || o.alpn == "quic-echo") && !o.echo_text) o.echo_text = "hello from roam";
  if (o.alpn != h3::kAlpn && o.alpn != apps::kHqAlpn && o.alpn != "perf" && o.alpn != "echo" &&
      o.alpn != "quic-echo") {
    return usage_error("unknown --alpn '" + o.alpn + "' (roam-client speaks h3, hq-interop, perf, echo, quic-echo)");
  }
  const bool http3 = o.alpn == h3::kAlpn;
  // The protocols that download URLs into files or standard output.
  const bool downloads = http3 || o.alpn == apps::kHqAlpn;
  if (!downloads && (*dl_opt || !o.output.empty())) return usage_error("--download and -o are for h3 and hq-interop downloads");
  if (*head_opt && !http3) return usage_error("--head is for h3");
  if (!o.output.empty() && o.output != "-" && o.urls.size() > 1) {
    return usage_error("-o FILE takes one URL (use --download DIR, or -o - for standard output)");
  }

  // The URLs, grouped by server.
  std::vector<Target> targets;
  std::map<std::string, std::size_t> target_of;
  std::set<std::string> names;
  for (const auto& text : o.urls) {
    std::string why;
    auto url = apps::parse_url(text, why);
    if (!url) return usage_error("bad URL '" + text + "': " + why);
    if (downloads && *dl_opt && !names.insert(apps::file_name_for(url->path)).second) {
      return usage_error("two URLs would be saved as " + apps::file_name_for(url->path) + " in " + o.download_dir);
    }
    auto [it, fresh] = target_of.try_emplace(url->authority(), targets.size());
    if (fresh) targets.push_back({*url, {}});
    targets[it->second].urls.push_back(*url);
  }
  std::vector<SocketAddress> peers;
  for (const auto& t : targets) {
    std::string why;
    auto addrs = apps::resolve_host(t.first.host, t.first.port, why);
    if (addrs.empty()) return failure(why);
    peers.push_back(addrs.front());
  }
  SocketAddress local = SocketAddress::any_ipv4();
  for (const auto& p : peers) {
    if (p.is_ipv6()) local = SocketAddress::any_ipv6();  // dual-stack: reaches IPv4 peers too
  }
  if (!o.bind.empty()) {
    auto b = SocketAddress::parse(o.bind);
    if (!b) return usage_error("--bind wants ADDRESS:PORT, got '" + o.bind + "'");
    local = *b;
  }
  apps::MigrationOptions mig;
  if (!o.migrate_after.empty() && !(mig.migrate_after = apps::parse_duration(o.migrate_after))) {
    return usage_error("--migrate-after wants a duration like 2s or 300ms, got '" + o.migrate_after + "'");
  }
  if (!o.rebind_after.empty() && !(mig.rebind_after = apps::parse_duration(o.rebind_after))) {
    return usage_error("--rebind-after wants a duration like 2s or 300ms, got '" + o.rebind_after + "'");
  }
  if (!o.key_update_after.empty() && !(mig.key_update_after = apps::parse_duration(o.key_update_after))) {
    return usage_error("--key-update-after wants a duration like 2s or 300ms, got '" + o.key_update_after + "'");
  }
  if (!o.migrate_to.empty()) {
    if (o.migrate_after.empty()) return usage_error("--migrate-to goes with --migrate-after");
    if (!(mig.migrate_to = SocketAddress::parse(o.migrate_to))) {
      return usage_error("--migrate-to wants ADDRESS:PORT, got '" + o.migrate_to + "'");
    }
  }
  if (o.migrate_now && o.migrate_after.empty()) return usage_error("--migrate-now goes with --migrate-after");
  mig.migrate_now = o.migrate_now;
  mig.follow_network = o.follow_network;
  if (mig.any() && targets.size() > 1) return usage_error("migration options take URLs of one server");
  if (o.follow_network && o.bind.empty()) {
    // Bind to the address the kernel uses towards the server, so a change of it can be seen.
    if (auto r = io::NetMonitor::default_route_source(peers.front())) local = r->source.with_port(0);
  }
  if (downloads && *dl_opt) {
    std::error_code ec;
    fs::create_directories(o.download_dir, ec);
    if (ec) return failure("cannot create " + o.download_dir + ": " + ec.message());
  }

  // TLS and the socket.
  if (o.keylog.empty()) {
    if (const char* env = std::getenv("SSLKEYLOGFILE")) o.keylog = env;
  }
  tls::ClientOptions co;
  co.alpn = {o.alpn};
  co.ca_file = o.ca;
  co.insecure_skip_verify = o.insecure;
  co.keylog_file = o.keylog;
  auto ctx = tls::TlsContext::create_client(co);
  if (!ctx) return failure("TLS setup failed: " + std::string(ctx.error().reason));
  endpoint::EndpointConfig ec;
  ec.connection.congestion_control =
      o.cc == "newreno" ? conn::CongestionControl::kNewReno : conn::CongestionControl::kCubic;
  if (!o.qlog_dir.empty()) {
    std::string qerr;
    if (!apps::enable_qlog_dir(o.qlog_dir, ec.connection, qerr)) return failure(qerr);
  }
  auto driver = apps::Driver::create(local, ec, *ctx);
  if (!driver) return kExitFailed;
  auto& ep = driver->endpoint();
  apps::MigrationControl migration(mig, *driver, stderr, o.quiet);
  if (!migration.start(peers.front())) return kExitFailed;

  // One connection per server, one exchange per URL.
  const bool payload_to_stdout = downloads && !*dl_opt && (o.output.empty() || o.output == "-");
  std::FILE* report = payload_to_stdout ? stderr : stdout;
  apps::OrderedOutputs stdout_outputs(stdout);
  std::vector<std::vector<std::unique_ptr<apps::Exchange>>> exchanges;
  if (auto e = make_exchanges(o, targets, stdout_outputs, exchanges)) return failure(*e);
  const Instant start = driver->now();
  // A saved session to resume (--session-file): one server only, as a ticket names its server.
  std::optional<conn::ResumptionState> resume;
  if (!o.session_file.empty()) {
    if (targets.size() > 1) return usage_error("--session-file takes URLs of one server");
    std::string serr;
    resume = apps::load_session_file(o.session_file, serr);
    if (!serr.empty()) return failure(serr);
  }
  std::vector<apps::ClientConnection> conns;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const std::string sni = o.sni.empty() ? targets[i].first.host : o.sni;
    auto h = ep.connect(sni, driver->socket().local_address(), peers[i], start, resume ? &*resume : nullptr);
    if (!h) return failure("cannot start a connection to " + peers[i].to_string() + ": " + std::string(h.error().reason));
    conns.emplace_back(targets[i].first.authority(), *h, std::move(exchanges[i]), http3);
  }

  apps::ProgressBar bar(stderr);
  const bool show_progress = !o.quiet && bar.enabled() && !(payload_to_stdout && isatty(STDOUT_FILENO));
  const auto all_finished = [&] {
    for (const auto& cc : conns) {
      if (!cc.finished()) return false;
    }
    return true;
  };
  driver->run(all_finished, [&] {
    const Instant now = driver->now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    std::uint64_t bytes = 0, expected = 0;
    bool expected_known = true;
    std::size_t done = 0, count = 0;
    for (auto& cc : conns) {
      conn::Connection* c = ep.connection(cc.handle());
      cc.pump(c, now);
      if (!cc.finished() && !cc.handshake_complete() && elapsed > o.timeout_s) {
        char why[160];
        std::snprintf(why, sizeof why, "no answer from %s within %g s", cc.name().c_str(), o.timeout_s);
        cc.fail(why);
        if (c) c->close(cc.close_code(), "handshake timeout");
      }
      if (!cc.finished() && o.max_time_s > 0 && elapsed > o.max_time_s) {
        char why[160];
        std::snprintf(why, sizeof why, "%s: not finished after %g s (--max-time)", cc.name().c_str(), o.max_time_s);
        cc.fail(why);
        if (c) c->close(cc.close_code(), "max time");
      }
      bytes += cc.bytes_received();
      if (auto e = cc.expected_bytes()) {
        expected += *e;
      } else {
        expected_known = false;
      }
      done += cc.finished_count();
      count += cc.count();
    }
    migration.tick(ep.connection(conns.front().handle()), start, now);
    if (show_progress) {
      bar.update(now, bytes, expected_known ? std::optional<std::uint64_t>(expected) : std::nullopt, done, count);
    }
  });
  bar.clear();
  const bool interrupted = !all_finished();

  // What the next run resumes with, and how this one went.
  if (!o.session_file.empty()) {
    if (auto* c = ep.connection(conns.front().handle())) {
      const auto st = c->stats();
      if (!o.quiet && resume) {
        std::fprintf(stderr, "session %s, 0-RTT %s (%llu packets sent early)\n", st.resumed ? "resumed" : "not resumed",
                     st.zero_rtt_accepted ? "accepted" : (st.zero_rtt_packets_sent ? "refused" : "not used"),
                     static_cast<unsigned long long>(st.zero_rtt_packets_sent));
      }
      if (auto state = c->resumption_state()) {
        std::string serr;
        if (!apps::save_session_file(o.session_file, *state, serr)) std::fprintf(stderr, "warning: %s\n", serr.c_str());
      }
    }
  }
  // Close politely: CONNECTION_CLOSE leaves with the final flush.
  for (auto& cc : conns) {
    if (auto* c = ep.connection(cc.handle()); c && !c->is_closing()) c->close(cc.close_code(), "done");
  }
  driver->run([] { return true; }, [] {});

  int rc = 0;
  apps::TransferSummary sum;
  std::optional<Instant> first, last;
  double rtt_ms_total = 0;
  for (const auto& cc : conns) {
    for (const auto& e : cc.errors()) std::fprintf(stderr, "error: %s\n", e.c_str());
    if (!cc.errors().empty()) rc = kExitFailed;
    for (const auto& w : cc.warnings()) std::fprintf(stderr, "warning: %s\n", w.c_str());
    for (const auto& line : cc.result_lines()) std::printf("%s\n", line.c_str());
    sum.bytes += cc.bytes_received();
    sum.streams += cc.count();
    sum.packets_lost += cc.stats().packets_lost;
    rtt_ms_total += std::chrono::duration<double, std::milli>(cc.stats().smoothed_rtt).count();
    if (cc.transfer_start() && (!first || *cc.transfer_start() < *first)) first = cc.transfer_start();
    if (cc.transfer_end() && (!last || *cc.transfer_end() > *last)) last = cc.transfer_end();
  }
  for (const auto& e : migration.errors()) {
    std::fprintf(stderr, "error: %s\n", e.c_str());
    rc = kExitFailed;
  }
  if (interrupted) {
    std::fprintf(stderr, "error: interrupted\n");
    return kExitInterrupted;
  }
  if (rc == 0 && !o.quiet) {
    sum.seconds = first && last ? std::chrono::duration<double>(*last - *first).count() : 0.0;
    sum.rtt = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, std::milli>(rtt_ms_total / static_cast<double>(conns.size())));
    std::string line = apps::format_summary(sum);
    if (o.alpn == "perf") line += ", all bytes verified";
    std::fprintf(report, "%s\n", line.c_str());
  }
  std::fflush(stdout);
  return rc;
}
