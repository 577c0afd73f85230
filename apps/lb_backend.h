// roam-server behind roam-lb: the command-line options that make a backend (--lb-config,
// --lb-config-id, --server-id, --behind-lb, --reset-key-file), their checks, and the CID generator
// each worker uses (docs/load-balancing.md, "Backend mode" and "Workers").
//
// CIDs per case:
//   - --lb-config + --server-id: QUIC-LB CIDs of the chosen config (lb::RoutableCidGenerator). The
//     server ID is the host ID (--server-id, what roam-lb's backend table names) followed by a
//     worker field filling the config's server ID length. The worker index is also readable in
//     the clear for the kernel's steering program: the last server ID octet of a plaintext config
//     with a one-octet worker field, else one steering octet after the QUIC-LB part (always, even
//     with one worker, so that the CID length does not depend on the number of workers).
//   - no --lb-config, several workers: random CIDs whose last octet is the worker index
//     (lb::WorkerCidGenerator).
//   - neither: the endpoint's random CIDs.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cid/generator.h"
#include "common/random.h"
#include "common/socket_address.h"
#include "lb/config.h"

namespace roam::apps {

struct LbBackendOptions {
  std::string lb_config;       // --lb-config FILE (roam-lb's settings file)
  int lb_config_id = -1;       // --lb-config-id N; -1: the last 'config' line of the file
  std::string server_id;       // --server-id HEX (the host ID)
  std::string behind_lb;       // --behind-lb ADDR:PORT[,ADDR:PORT...]
  std::string reset_key_file;  // --reset-key-file FILE (hex)
};

void add_lb_backend_options(CLI::App& app, LbBackendOptions& options);

// The options, checked and parsed.
struct LbBackend {
  std::optional<lb::Config> config;            // with host_id
  std::basic_string<std::uint8_t> host_id;
  std::vector<SocketAddress> load_balancers;   // --behind-lb
  std::vector<std::uint8_t> reset_key;         // empty: each process draws its own
};

// One line for the user on any mistake (without "error: ").
Result<LbBackend, std::string> resolve_lb_backend(const LbBackendOptions& options);

// The CIDs of one worker: the generator (nullptr: the endpoint's random CIDs) and, when there is
// one, the offset of the octet that names the worker.
struct WorkerCids {
  std::shared_ptr<const cid::CidGenerator> generator;
  std::optional<std::size_t> worker_offset;
};

// Generators for workers 0..workers-1, or one line on a mistake (a server ID with no room for
// the worker field, too many workers for it). default_length: the CID length without a config.
Result<std::vector<WorkerCids>, std::string> make_worker_cids(const LbBackend& backend, std::uint32_t workers,
                                                             std::size_t default_length, Random& random);

// For the startup line: "QUIC-LB config 0 (four-pass), host ID 0a01, worker octet at 9" and the like.
std::string describe_cids(const LbBackend& backend, const std::vector<WorkerCids>& cids);

}  // namespace roam::apps
