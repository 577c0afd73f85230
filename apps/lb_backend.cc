#include "lb_backend.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "lb/generator.h"
#include "lb/settings.h"
#include "lb/worker_cid.h"

namespace roam::apps {

namespace {

// A stateless reset key shorter than this would be guessable.
constexpr std::size_t kMinResetKey = 16;
constexpr std::size_t kMaxResetKey = 64;
constexpr std::uint32_t kMaxWorkersPerOctet = 256;

Result<std::vector<SocketAddress>, std::string> parse_lb_list(const std::string& text) {
  std::vector<SocketAddress> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto a = SocketAddress::parse(item);
    if (!a || a->is_unspecified() || a->port() == 0) {
      return "--behind-lb wants ADDR:PORT[,ADDR:PORT...] (the load balancers' backend sockets), got '" + item + "'";
    }
    if (std::find(out.begin(), out.end(), *a) != out.end()) return "--behind-lb names " + item + " twice";
    out.push_back(*a);
  }
  if (out.empty()) return std::string("--behind-lb wants at least one ADDR:PORT");
  return out;
}

Result<std::vector<std::uint8_t>, std::string> read_reset_key(const std::string& path) {
  std::ifstream f(path);
  if (!f) return "--reset-key-file: cannot read " + path;
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::erase_if(text, [](unsigned char c) { return std::isspace(c) != 0; });
  auto key = lb::parse_hex(text, "the reset key in " + path);
  if (!key) return "--reset-key-file: " + key.error().message;
  if (key->size() < kMinResetKey || key->size() > kMaxResetKey) {
    return "--reset-key-file: " + path + " holds " + std::to_string(key->size()) + " octets; want " +
           std::to_string(kMinResetKey) + " to " + std::to_string(kMaxResetKey) + " (hex)";
  }
  return std::vector<std::uint8_t>(key->begin(), key->end());
}

}  // namespace

void add_lb_backend_options(CLI::App& app, LbBackendOptions& o) {
  app.add_option("--lb-config", o.lb_config,
                 "issue QUIC-LB routable CIDs with a config from this roam-lb settings file (needs --server-id)")
      ->type_name("FILE");
  app.add_option("--lb-config-id", o.lb_config_id, "which config of --lb-config (default: the last 'config' line)")
      ->type_name("N");
  app.add_option("--server-id", o.server_id,
                 "this backend's ID in roam-lb's backend table (hex); the rest of the config's server ID is the "
                 "worker field")
      ->type_name("HEX");
  app.add_option("--behind-lb", o.behind_lb,
                 "datagrams from these roam-lb backend sockets are encapsulated; answers go back through them")
      ->type_name("ADDR:PORT[,ADDR:PORT]");
  app.add_option("--reset-key-file", o.reset_key_file,
                 "stateless reset key (16-64 octets, hex), shared by the backends that may see each other's CIDs")
      ->type_name("FILE");
}

Result<LbBackend, std::string> resolve_lb_backend(const LbBackendOptions& o) {
  LbBackend b;
  if (o.lb_config.empty() != o.server_id.empty()) return std::string("--lb-config and --server-id go together");
  if (o.lb_config.empty() && o.lb_config_id >= 0) return std::string("--lb-config-id goes with --lb-config");
  if (!o.lb_config.empty()) {
    auto settings = lb::load_settings(o.lb_config);
    if (!settings) return "--lb-config: " + settings.error().message;
    if (settings->configs.empty()) return "--lb-config: " + o.lb_config + " has no 'config' line";
    const lb::Config* chosen = &settings->configs.back();
    if (o.lb_config_id >= 0) {
      auto it = std::find_if(settings->configs.begin(), settings->configs.end(),
                             [&](const lb::Config& c) { return c.id == o.lb_config_id; });
      if (it == settings->configs.end()) {
        return "--lb-config-id: " + o.lb_config + " has no config " + std::to_string(o.lb_config_id);
      }
      chosen = &*it;
    }
    if (auto ok = lb::validate(*chosen); !ok) return "--lb-config: " + ok.error().message;
    auto id = lb::parse_hex(o.server_id, "--server-id");
    if (!id) return id.error().message;
    if (id->empty() || id->size() > chosen->server_id_len) {
      return "--server-id " + o.server_id + " has " + std::to_string(id->size()) + " octets; config " +
             std::to_string(chosen->id) + " has " + std::to_string(chosen->server_id_len) + "-octet server IDs";
    }
    b.config = *chosen;
    b.host_id = std::move(id).value();
  }
  if (!o.behind_lb.empty()) {
    auto lbs = parse_lb_list(o.behind_lb);
    if (!lbs) return lbs.error();
    b.load_balancers = std::move(lbs).value();
  }
  if (!o.reset_key_file.empty()) {
    auto key = read_reset_key(o.reset_key_file);
    if (!key) return key.error();
    b.reset_key = std::move(key).value();
  }
  return b;
}

Result<std::vector<WorkerCids>, std::string> make_worker_cids(const LbBackend& b, std::uint32_t workers,
                                                             std::size_t default_length, Random& random) {
  std::vector<WorkerCids> out(workers);
  if (b.config) {
    const std::size_t worker_bytes = b.config->server_id_len - b.host_id.size();
    if (workers > 1 && worker_bytes == 0) {
      return "--server-id fills the whole " + std::to_string(b.config->server_id_len) +
             "-octet server ID; with --workers leave at least one octet for the worker";
    }
    if (workers > kMaxWorkersPerOctet) return std::string("--workers: at most 256 (one octet names the worker)");
    lb::WorkerLayout layout;
    layout.worker_bytes = worker_bytes;
    // The kernel must read the worker without decrypting. A plaintext config with a one-octet
    // worker field has it in the clear; otherwise a steering octet follows the QUIC-LB part,
    // whatever the number of workers, so every backend of a fleet issues CIDs of one length (a
    // backend can only reset another's CID if it parses short headers with the same length).
    layout.steering_byte = !(b.config->algorithm() == lb::Algorithm::kPlaintext && worker_bytes == 1);
    for (std::uint32_t w = 0; w < workers; ++w) {
      auto g = lb::RoutableCidGenerator::create(*b.config, Bytes(b.host_id.data(), b.host_id.size()), w, random, layout);
      if (!g) return "routable CIDs: " + g.error().message;
      if (workers > 1) {
        out[w].worker_offset = (*g)->steering_offset();
        if (!out[w].worker_offset) return std::string("routable CIDs: no plaintext worker octet");  // layout guarantees one
      }
      out[w].generator = std::shared_ptr<const cid::CidGenerator>(std::move(g).value());
    }
    return out;
  }
  if (workers == 1) return out;
  if (workers > kMaxWorkersPerOctet) return std::string("--workers: at most 256 (one octet names the worker)");
  for (std::uint32_t w = 0; w < workers; ++w) {
    auto g = lb::WorkerCidGenerator::create(std::max(default_length, lb::WorkerCidGenerator::kMinLength),
                                            static_cast<std::uint8_t>(w));
    if (!g) return "worker CIDs: " + g.error().message;
    out[w].worker_offset = g->worker_offset();
    out[w].generator = std::make_shared<lb::WorkerCidGenerator>(std::move(g).value());
  }
  return out;
}

std::string describe_cids(const LbBackend& b, const std::vector<WorkerCids>& cids) {
  std::string s;
  if (b.config) {
    s = "QUIC-LB config " + std::to_string(b.config->id) + " (" + std::string(lb::to_string(b.config->algorithm())) +
        "), host ID " + to_hex(Bytes(b.host_id.data(), b.host_id.size())) + ", " +
        std::to_string(b.config->server_id_len - b.host_id.size()) + "-octet worker field";
  } else if (!cids.empty() && cids.front().generator) {
    s = "random, worker index in the last octet";
  } else {
    s = "random";
  }
  if (!cids.empty() && cids.front().generator) s += ", " + std::to_string(cids.front().generator->length()) + " octets";
  if (!cids.empty() && cids.front().worker_offset) s += ", worker octet at offset " + std::to_string(*cids.front().worker_offset);
  return s;
}

}  // namespace roam::apps
