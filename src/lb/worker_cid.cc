#include "lb/worker_cid.h"

#include <string>

namespace roam::lb {

ConfigResult<WorkerCidGenerator> WorkerCidGenerator::create(std::size_t length, std::uint8_t worker) {
  if (length < kMinLength || length > ConnectionId::kMaxLength) {
    return ConfigError{"worker CID length " + std::to_string(length) + " is outside " + std::to_string(kMinLength) +
                       ".." + std::to_string(ConnectionId::kMaxLength)};
  }
  return WorkerCidGenerator(length, worker);
}

ConnectionId WorkerCidGenerator::generate(Random& random) const {
  ConnectionId cid;
  cid.resize(length_);
  random.fill(MutBytes(cid.mutable_data(), length_ - 1));
  cid.mutable_data()[length_ - 1] = worker_;
  return cid;
}

std::optional<std::uint8_t> WorkerCidGenerator::worker_of(Bytes dcid) const {
  if (dcid.size() != length_) return std::nullopt;
  return dcid[length_ - 1];
}

}  // namespace roam::lb
