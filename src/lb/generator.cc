#include "lb/generator.h"

#include <array>

#include "lb/four_pass.h"

namespace roam::lb {

namespace {

constexpr std::size_t kMaxWorkerBytes = 4;

// counter += 1, big-endian, wrapping.
void increment(std::uint8_t* p, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) {
    if (++p[i] != 0) return;
  }
}

}  // namespace

ConfigResult<std::unique_ptr<RoutableCidGenerator>> RoutableCidGenerator::create(const Config& config, Bytes host_id,
                                                                                std::uint32_t worker_id, Random& random,
                                                                                WorkerLayout layout) {
  auto codec = CidCodec::create(config);
  if (!codec) return codec.error();
  if (layout.worker_bytes > kMaxWorkerBytes) {
    return ConfigError{"worker field of " + std::to_string(layout.worker_bytes) + " octets; at most 4"};
  }
  if (host_id.empty() || host_id.size() + layout.worker_bytes != config.server_id_len) {
    return ConfigError{"host ID of " + std::to_string(host_id.size()) + " octets plus a worker field of " +
                       std::to_string(layout.worker_bytes) + " must make the server ID length " +
                       std::to_string(config.server_id_len) + " (and the host ID at least 1 octet)"};
  }
  if (layout.worker_bytes < kMaxWorkerBytes && worker_id >> (8 * layout.worker_bytes) != 0) {
    return ConfigError{"worker ID " + std::to_string(worker_id) + " does not fit in " +
                       std::to_string(layout.worker_bytes) + " octet(s)"};
  }
  if (layout.steering_byte && worker_id > 0xff) {
    return ConfigError{"worker ID " + std::to_string(worker_id) + " does not fit in the steering octet"};
  }
  if (layout.steering_byte && config.cid_len() + 1 > ConnectionId::kMaxLength) {
    return ConfigError{"no room for a steering octet: server ID + nonce already take 19 octets"};
  }
  std::array<std::uint8_t, kMaxServerIdLen> sid{};
  std::copy(host_id.begin(), host_id.end(), sid.begin());
  for (std::size_t i = 0; i < layout.worker_bytes; ++i) {
    sid[config.server_id_len - 1 - i] = static_cast<std::uint8_t>(worker_id >> (8 * i));
  }
  Key nonce_key;
  random.fill(nonce_key);
  auto cipher = AesEcb::create(nonce_key);
  if (!cipher) return ConfigError{"cannot create an AES-128-ECB context (OpenSSL)"};
  auto gen = std::unique_ptr<RoutableCidGenerator>(new RoutableCidGenerator(
      std::move(codec.value()), std::move(*cipher), ServerId(Bytes(sid.data(), config.server_id_len)), worker_id,
      layout));
  std::array<std::uint8_t, kMaxNonceLen> start{};
  random.fill(MutBytes(start.data(), config.nonce_len));
  gen->counter_ = Nonce(Bytes(start.data(), config.nonce_len));
  return gen;
}

RoutableCidGenerator::RoutableCidGenerator(CidCodec codec, AesEcb nonce_cipher, const ServerId& server_id,
                                           std::uint32_t worker_id, WorkerLayout layout)
    : codec_(std::move(codec)),
      nonce_cipher_(std::move(nonce_cipher)),
      server_id_(server_id),
      worker_id_(worker_id),
      layout_(layout),
      length_(codec_.config().cid_len() + (layout.steering_byte ? 1 : 0)) {}

bool RoutableCidGenerator::exhausted() const {
  const std::size_t bits = 8 * codec_.config().nonce_len;
  return bits < 64 && issued_ >= (std::uint64_t{1} << bits);
}

ConnectionId RoutableCidGenerator::generate(Random& random) const {
  std::uint8_t low_bits = 0;
  random.fill(MutBytes(&low_bits, 1));
  if (!exhausted()) {
    std::array<std::uint8_t, kMaxNonceLen> nonce;
    const std::size_t n = codec_.config().nonce_len;
    std::copy_n(counter_.data(), n, nonce.begin());
    if (four_pass_encrypt(nonce_cipher_, MutBytes(nonce.data(), n))) {
      const std::uint8_t steer = static_cast<std::uint8_t>(worker_id_);
      auto cid = codec_.encode(server_id_.bytes(), Bytes(nonce.data(), n),
                               layout_.steering_byte ? Bytes(&steer, 1) : Bytes(), low_bits);
      if (cid) {
        std::array<std::uint8_t, kMaxNonceLen> next;
        std::copy_n(counter_.data(), n, next.begin());
        increment(next.data(), n);
        counter_ = Nonce(Bytes(next.data(), n));
        ++issued_;
        return *cid;
      }
    }
  }
  // Nonces used up (or the library failed): an unroutable CID of the same length, which must
  // self-describe its length (draft, "Configuration Failover").
  ConnectionId cid;
  cid.resize(length_);
  random.fill(MutBytes(cid.mutable_data(), length_));
  cid.mutable_data()[0] = static_cast<std::uint8_t>(kUnroutableConfigId << kConfigIdShift | (length_ - 1));
  return cid;
}

std::optional<std::uint32_t> RoutableCidGenerator::worker_of(Bytes dcid) const {
  if (dcid.size() != length_) return std::nullopt;
  auto sid = codec_.server_id(dcid);
  if (!sid) return std::nullopt;
  const std::size_t host_len = server_id_.size() - layout_.worker_bytes;
  if (!std::equal(sid->data(), sid->data() + host_len, server_id_.data())) return std::nullopt;
  std::uint32_t worker = 0;
  for (std::size_t i = host_len; i < sid->size(); ++i) worker = worker << 8 | (*sid)[i];
  if (layout_.steering_byte && dcid[length_ - 1] != worker) return std::nullopt;
  return worker;
}

std::optional<std::size_t> RoutableCidGenerator::steering_offset() const {
  if (layout_.steering_byte) return codec_.config().cid_len();
  if (codec_.algorithm() == Algorithm::kPlaintext && layout_.worker_bytes == 1) return codec_.config().server_id_len;
  return std::nullopt;
}

}  // namespace roam::lb
