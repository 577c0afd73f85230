// roam-lb's offline commands: decode CIDs to config ID and server ID, and encode server IDs into
// CIDs, from the same settings a load balancer and its servers use. No balancer needs to run.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "lb/config.h"

namespace roam::lbapp {

// Either one config from options, or every config of a settings file.
struct CidToolConfig {
  std::optional<int> config_id;
  std::optional<int> server_id_len;
  std::optional<int> nonce_len;
  std::string key_hex;
  bool no_length = false;   // the low 5 bits of the first octet are random, not the length
  std::string config_file;  // alternative to the four options above
};

struct DecodeRequest {
  CidToolConfig config;
  std::vector<std::string> cids;
  bool show_nonce = false;
};

struct EncodeRequest {
  CidToolConfig config;
  std::string server_id_hex;
  std::string nonce_hex;  // empty: unpredictable, distinct nonces
  std::size_t count = 1;
};

// Both print results to out, and a user's mistake as one "error: ..." line to err.
// Return the process exit code: 0, or 2 for a usage mistake.
int run_decode(const DecodeRequest& request, std::FILE* out, std::FILE* err);
int run_encode(const EncodeRequest& request, std::FILE* out, std::FILE* err);

}  // namespace roam::lbapp
