// roam-lb: a stateless UDP load balancer for QUIC that routes by the server ID inside QUIC-LB
// connection IDs (draft-ietf-quic-load-balancers), and the offline tools to decode and encode
// such CIDs.
//
//   roam-lb --listen ADDR:PORT --config FILE [--backend ID=ADDR:PORT ...] [--mode routable|4tuple]
//   roam-lb decode --config-id N --server-id-len N --nonce-len N [--key HEX] CID...
//   roam-lb encode --config-id N --server-id-len N --nonce-len N [--key HEX] --server-id HEX
//                  [--nonce HEX] [--count K]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "../command_line.h"
#include "cid_tool.h"
#include "forwarder.h"
#include "io/event_loop.h"
#include "lb/settings.h"

using namespace roam;

namespace {

constexpr int kExitFailure = 1;

void add_config_options(CLI::App* cmd, lbapp::CidToolConfig& c) {
  cmd->add_option("--config-id", c.config_id, "config rotation codepoint (0..6)")->type_name("N");
  cmd->add_option("--server-id-len", c.server_id_len, "server ID length in octets (1..15)")->type_name("N");
  cmd->add_option("--nonce-len", c.nonce_len, "nonce length in octets (4..18; server ID + nonce <= 19)")
      ->type_name("N");
  cmd->add_option("--key", c.key_hex, "AES-128 key, 32 hex digits (absent: plaintext CIDs)")->type_name("HEX");
  cmd->add_flag("--no-length", c.no_length,
                "the first octet's low 5 bits are random instead of the CID length (default: the length)");
  cmd->add_option("--config", c.config_file, "take the config(s) from a roam-lb settings file instead")
      ->type_name("FILE");
}

// The settings file plus --backend options, checked, as a router. Errors are one line.
lb::ConfigResult<lb::Router> load_router(const std::string& path, const std::vector<std::string>& backend_specs) {
  lb::Settings settings;
  if (!path.empty()) {
    auto s = lb::load_settings(path);
    if (!s) return s.error();
    settings = *s;
  }
  for (const auto& spec : backend_specs) {
    auto b = lb::parse_backend(spec);
    if (!b) return lb::ConfigError{"--backend: " + b.error().message};
    settings.backends.push_back(*b);
  }
  if (settings.backends.empty()) {
    return lb::ConfigError{"no backends: give --backend ID=ADDR:PORT or 'backend' lines in --config"};
  }
  if (settings.configs.empty() && !path.empty()) {
    return lb::ConfigError{path + ": no 'config' line; every CID would be unroutable"};
  }
  return lb::Router::create(settings);
}

std::string config_ids(const lb::Router& r) {
  std::string out;
  for (const auto& c : r.settings().configs) {
    out += (out.empty() ? "" : " ") + std::to_string(c.id) + "(" + std::string(lb::to_string(c.algorithm())) + ")";
  }
  return out.empty() ? "none" : out;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  CLI::App app{"roam-lb: a stateless QUIC-LB load balancer for QUIC, and tools to decode and encode QUIC-LB CIDs"};
  app.require_subcommand(0, 1);

  std::string listen, config_path, backend_source;
  std::string mode = "routable";
  std::vector<std::string> backend_specs;
  double stats_interval = 0;
  bool quiet = false;
  app.add_option("--listen", listen, "address clients send to")->type_name("ADDR:PORT");
  app.add_option("--config", config_path,
                 "settings file: 'config', 'backend' and 'fallback-key' lines (see docs/load-balancing.md); "
                 "re-read on SIGHUP")
      ->type_name("FILE");
  app.add_option("--backend", backend_specs, "a backend: its server (host) ID in hex and its address; repeatable")
      ->type_name("ID=ADDR:PORT");
  app.add_option("--backend-source", backend_source,
                 "address to talk to backends from (default: an ephemeral port on the wildcard address)")
      ->type_name("ADDR:PORT");
  app.add_option("--mode", mode,
                 "routable: by the server ID in QUIC-LB CIDs (default); 4tuple: by a hash of the 4-tuple only, as a "
                 "plain L4 balancer (for comparison: migrated connections then reach other backends)")
      ->check(CLI::IsMember({"routable", "4tuple"}))
      ->capture_default_str();
  app.add_option("--stats-interval", stats_interval, "print counters every SECONDS (0: only at exit)")
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("-q,--quiet", quiet, "print only errors");

  lbapp::DecodeRequest decode;
  auto* dec = app.add_subcommand("decode", "print 'CID config-id server-id' (hex) or 'CID unroutable' per CID");
  add_config_options(dec, decode.config);
  dec->add_flag("--show-nonce", decode.show_nonce, "also print the nonce (decrypted)");
  dec->add_option("CID", decode.cids, "connection IDs in hex")->required();

  lbapp::EncodeRequest encode;
  auto* enc = app.add_subcommand("encode", "print CIDs that carry a server ID");
  add_config_options(enc, encode.config);
  enc->add_option("--server-id", encode.server_id_hex, "server ID in hex")->required()->type_name("HEX");
  enc->add_option("--nonce", encode.nonce_hex, "nonce in hex (default: unpredictable, distinct nonces)")
      ->type_name("HEX");
  enc->add_option("--count", encode.count, "how many CIDs (with --nonce: nonce, nonce + 1, ...)")
      ->type_name("K")
      ->check(CLI::PositiveNumber);

  if (auto rc = apps::parse_command_line(app, argc, argv)) return *rc;
  if (dec->parsed()) return lbapp::run_decode(decode, stdout, stderr);
  if (enc->parsed()) return lbapp::run_encode(encode, stdout, stderr);

  // The load balancer.
  if (listen.empty()) {
    std::fprintf(stderr, "error: --listen ADDR:PORT is required (or use 'decode' / 'encode'; see --help)\n");
    return apps::kExitUsage;
  }
  auto listen_addr = SocketAddress::parse(listen);
  if (!listen_addr) {
    std::fprintf(stderr, "error: --listen wants ADDR:PORT (e.g. 0.0.0.0:443 or [::]:443), got '%s'\n", listen.c_str());
    return apps::kExitUsage;
  }
  lbapp::ForwarderOptions options;
  options.listen = *listen_addr;
  options.mode = mode == "4tuple" ? lbapp::RoutingMode::kFourTuple : lbapp::RoutingMode::kRoutable;
  if (!backend_source.empty()) {
    options.backend_source = SocketAddress::parse(backend_source);
    if (!options.backend_source) {
      std::fprintf(stderr, "error: --backend-source wants ADDR:PORT, got '%s'\n", backend_source.c_str());
      return apps::kExitUsage;
    }
  }
  auto router = load_router(config_path, backend_specs);
  if (!router) {
    std::fprintf(stderr, "error: %s\n", router.error().message.c_str());
    return apps::kExitUsage;
  }

  auto loop = io::EventLoop::create();
  if (!loop) {
    std::fprintf(stderr, "error: %s\n", loop.error().message().c_str());
    return kExitFailure;
  }
  auto forwarder = lbapp::Forwarder::create(**loop, std::move(router.value()), options);
  if (!forwarder) {
    std::fprintf(stderr, "error: %s\n", forwarder.error().c_str());
    return kExitFailure;
  }
  lbapp::Forwarder& fwd = **forwarder;
  io::EventLoop& ev = **loop;
  auto status = ev.watch_signals({SIGINT, SIGTERM, SIGHUP}, [&](int sig) {
    if (sig != SIGHUP) {
      ev.stop();
      return;
    }
    // Stateless routing makes a reload safe at any moment: no table to migrate.
    auto next = load_router(config_path, backend_specs);
    if (!next) {
      std::fprintf(stderr, "roam-lb: reload failed, keeping the old settings: %s\n", next.error().message.c_str());
      return;
    }
    auto ok = fwd.replace_router(std::move(next.value()));
    if (!ok) {
      std::fprintf(stderr, "roam-lb: reload failed, keeping the old settings: %s\n", ok.error().c_str());
    } else if (!quiet) {
      std::printf("roam-lb: reloaded: %zu backends, configs %s\n", fwd.router().backends().size(),
                  config_ids(fwd.router()).c_str());
    }
  });
  if (!status) {
    std::fprintf(stderr, "error: %s\n", status.error().message().c_str());
    return kExitFailure;
  }
  if (!quiet) {
    std::printf("roam-lb: listening on %s, backend socket %s, %zu backends, configs %s%s\n",
                fwd.listen_address().to_string().c_str(), fwd.backend_socket_address().to_string().c_str(),
                fwd.router().backends().size(), config_ids(fwd.router()).c_str(),
                options.mode == lbapp::RoutingMode::kFourTuple ? ", mode 4tuple" : "");
  }
  if (stats_interval > 0 && !quiet) {
    const auto period = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(stats_interval));
    std::function<void()> tick = [&] {
      std::printf("roam-lb: %s\n", fwd.stats_line().c_str());
      ev.add_timer(ev.now() + period, tick);
    };
    ev.add_timer(ev.now() + period, tick);
  }
  if (auto ran = ev.run(); !ran) {
    std::fprintf(stderr, "error: %s\n", ran.error().message().c_str());
    return kExitFailure;
  }
  if (!quiet) std::printf("roam-lb: stopped: %s\n", fwd.stats_line().c_str());
  return 0;
}
