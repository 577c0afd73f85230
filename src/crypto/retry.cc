#include "crypto/retry.h"

#include <vector>

#include "crypto/secret.h"

namespace roam::crypto {

Result<RetryIntegrity> RetryIntegrity::create(Backend backend) {
  auto aead = make_aead(AeadAlgorithm::kAes128Gcm, kRetryKeyV1, backend);
  if (!aead) return aead.error();
  return RetryIntegrity(std::move(aead.value()));
}

Result<RetryIntegrityTag> RetryIntegrity::compute(Bytes pseudo_packet) const {
  RetryIntegrityTag tag;
  // Empty plaintext: the output is the tag alone.
  if (!aead_->seal(kRetryNonceV1, pseudo_packet, {}, tag)) {
    return Error{TransportError::kInternalError, "retry integrity tag computation failed"};
  }
  return tag;
}

bool RetryIntegrity::verify(Bytes pseudo_packet, Bytes tag) const {
  if (tag.size() != kRetryIntegrityTagSize) return false;
  auto expected = compute(pseudo_packet);
  return expected && constant_time_equal(*expected, tag);
}

namespace {
std::vector<std::uint8_t> pseudo_packet(const ConnectionId& odcid, Bytes retry_without_tag) {
  std::vector<std::uint8_t> p;
  p.reserve(1 + odcid.size() + retry_without_tag.size());
  p.push_back(static_cast<std::uint8_t>(odcid.size()));
  p.insert(p.end(), odcid.bytes().begin(), odcid.bytes().end());
  p.insert(p.end(), retry_without_tag.begin(), retry_without_tag.end());
  return p;
}
}  // namespace

Result<RetryIntegrityTag> RetryIntegrity::compute(const ConnectionId& odcid, Bytes retry_without_tag) const {
  return compute(pseudo_packet(odcid, retry_without_tag));
}

bool RetryIntegrity::verify_packet(const ConnectionId& odcid, Bytes retry_packet) const {
  if (retry_packet.size() < kRetryIntegrityTagSize) return false;
  const std::size_t body = retry_packet.size() - kRetryIntegrityTagSize;
  return verify(pseudo_packet(odcid, retry_packet.first(body)), retry_packet.subspan(body));
}

}  // namespace roam::crypto
