#include "cid_tool.h"

#include <array>

#include "crypto/system_random.h"
#include "lb/codec.h"
#include "lb/generator.h"
#include "lb/settings.h"

namespace roam::lbapp {

namespace {

constexpr int kUsage = 2;

// The configs the request names: from --config FILE (all, or the one --config-id picks), or the
// one the options describe.
lb::ConfigResult<std::vector<lb::Config>> configs_of(const CidToolConfig& r, bool need_one) {
  if (!r.config_file.empty()) {
    if (r.server_id_len || r.nonce_len || !r.key_hex.empty() || r.no_length) {
      return lb::ConfigError{"--config FILE replaces --server-id-len, --nonce-len, --key and --no-length"};
    }
    auto s = lb::load_settings(r.config_file);
    if (!s) return s.error();
    if (auto ok = lb::check(*s); !ok) return lb::ConfigError{r.config_file + ": " + ok.error().message};
    std::vector<lb::Config> picked;
    for (const auto& c : s->configs) {
      if (!r.config_id || c.id == *r.config_id) picked.push_back(c);
    }
    if (picked.empty()) {
      return lb::ConfigError{r.config_file + ": no config" +
                             (r.config_id ? " with ID " + std::to_string(*r.config_id) : std::string())};
    }
    if (need_one && picked.size() > 1) return lb::ConfigError{"--config-id picks which config of the file to use"};
    return picked;
  }
  if (!r.config_id || !r.server_id_len || !r.nonce_len) {
    return lb::ConfigError{"--config-id, --server-id-len and --nonce-len are required (or --config FILE)"};
  }
  lb::Config c;
  if (*r.config_id < 0 || *r.config_id > 255 || *r.server_id_len < 0 || *r.nonce_len < 0) {
    return lb::ConfigError{"--config-id, --server-id-len and --nonce-len take small non-negative numbers"};
  }
  c.id = static_cast<std::uint8_t>(*r.config_id);
  c.server_id_len = static_cast<std::size_t>(*r.server_id_len);
  c.nonce_len = static_cast<std::size_t>(*r.nonce_len);
  c.encode_length = !r.no_length;
  if (!r.key_hex.empty()) {
    auto k = lb::parse_key(r.key_hex);
    if (!k) return k.error();
    c.key = *k;
  }
  if (auto ok = lb::validate(c); !ok) return ok.error();
  return std::vector<lb::Config>{c};
}

int usage(std::FILE* err, const std::string& message) {
  std::fprintf(err, "error: %s\n", message.c_str());
  return kUsage;
}

}  // namespace

int run_decode(const DecodeRequest& request, std::FILE* out, std::FILE* err) {
  auto configs = configs_of(request.config, false);
  if (!configs) return usage(err, configs.error().message);
  std::vector<lb::CidCodec> codecs;
  for (const auto& c : *configs) {
    auto codec = lb::CidCodec::create(c);
    if (!codec) return usage(err, codec.error().message);
    codecs.push_back(std::move(codec.value()));
  }
  // Check every argument before printing anything: a typo is a usage error, not a CID.
  std::vector<std::basic_string<std::uint8_t>> cids;
  for (const auto& text : request.cids) {
    auto bytes = lb::parse_hex(text, "CID");
    if (!bytes) return usage(err, bytes.error().message);
    if (bytes->size() > 255) return usage(err, "CID '" + text + "' is longer than 255 octets");
    cids.push_back(*bytes);
  }
  for (const auto& cid : cids) {
    const Bytes b(cid.data(), cid.size());
    std::optional<lb::Plaintext> plain;
    const lb::CidCodec* used = nullptr;
    for (const auto& codec : codecs) {
      if (!b.empty() && lb::config_id_of(b[0]) == codec.config().id) {
        plain = codec.decrypt(b);
        used = &codec;
        break;
      }
    }
    const std::string hex = to_hex(b);
    if (!plain) {
      std::fprintf(out, "%s unroutable\n", hex.c_str());
    } else if (request.show_nonce) {
      std::fprintf(out, "%s %d %s %s\n", hex.c_str(), used->config().id, plain->server_id.hex().c_str(),
                   plain->nonce.hex().c_str());
    } else {
      std::fprintf(out, "%s %d %s\n", hex.c_str(), used->config().id, plain->server_id.hex().c_str());
    }
  }
  return 0;
}

int run_encode(const EncodeRequest& request, std::FILE* out, std::FILE* err) {
  auto configs = configs_of(request.config, true);
  if (!configs) return usage(err, configs.error().message);
  const lb::Config& config = configs->front();
  auto codec = lb::CidCodec::create(config);
  if (!codec) return usage(err, codec.error().message);
  auto sid = lb::parse_hex(request.server_id_hex, "--server-id");
  if (!sid) return usage(err, sid.error().message);
  if (sid->size() != config.server_id_len) {
    return usage(err, "--server-id has " + std::to_string(sid->size()) + " octets; the config wants " +
                          std::to_string(config.server_id_len));
  }
  if (request.count == 0) return usage(err, "--count wants at least 1");
  crypto::SystemRandom random;
  if (request.nonce_hex.empty()) {
    // Unpredictable and distinct: the servers' own generator, with the whole server ID as host ID.
    lb::WorkerLayout layout;
    layout.worker_bytes = 0;
    auto gen = lb::RoutableCidGenerator::create(config, Bytes(sid->data(), sid->size()), 0, random, layout);
    if (!gen) return usage(err, gen.error().message);
    for (std::size_t i = 0; i < request.count; ++i) {
      std::fprintf(out, "%s\n", (*gen)->generate(random).hex().c_str());
    }
    return 0;
  }
  auto nonce = lb::parse_hex(request.nonce_hex, "--nonce");
  if (!nonce) return usage(err, nonce.error().message);
  if (nonce->size() != config.nonce_len) {
    return usage(err, "--nonce has " + std::to_string(nonce->size()) + " octets; the config wants " +
                          std::to_string(config.nonce_len));
  }
  // With --nonce and --count K: the nonce, then nonce + 1, ... (big-endian), so a given nonce
  // always gives the same CID.
  std::vector<std::uint8_t> n(nonce->begin(), nonce->end());
  for (std::size_t i = 0; i < request.count; ++i) {
    std::uint8_t bits = 0;
    if (!config.encode_length) random.fill(MutBytes(&bits, 1));
    auto cid = codec->encode(Bytes(sid->data(), sid->size()), n, {}, bits);
    if (!cid) return usage(err, cid.error().message);
    std::fprintf(out, "%s\n", cid->hex().c_str());
    for (std::size_t j = n.size(); j-- > 0;) {
      if (++n[j] != 0) break;
    }
  }
  return 0;
}

}  // namespace roam::lbapp
