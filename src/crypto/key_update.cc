#include "crypto/key_update.h"

#include <algorithm>
#include <utility>

namespace roam::crypto {

namespace {

const Error kKeysWentBackwards{TransportError::kKeyUpdateError, "packet protected with older keys than a lower packet number"};

void raise(std::optional<std::uint64_t>& v, std::uint64_t x) { v = v ? std::max(*v, x) : x; }
void lower(std::optional<std::uint64_t>& v, std::uint64_t x) { v = v ? std::min(*v, x) : x; }

// Current keys from `secret`, plus the next generation's keys and secret.
struct Generation {
  PacketKeys current;
  PacketKeys next;
  Secret next_secret;
};

Result<Generation> derive_generation(AeadAlgorithm algorithm, Bytes secret, Backend backend) {
  auto current = derive_packet_keys(algorithm, secret, backend);
  if (!current) return current.error();
  auto next_secret = next_traffic_secret(aead_hash(algorithm), secret);
  if (!next_secret) return next_secret.error();
  auto next = derive_updated_packet_keys(*current, next_secret->bytes());
  if (!next) return next.error();
  return Generation{std::move(current.value()), std::move(next.value()), *next_secret};
}

}  // namespace

Result<OneRttKeys> OneRttKeys::create(AeadAlgorithm algorithm, Bytes read_secret, Bytes write_secret,
                                      Backend backend) {
  auto read = derive_generation(algorithm, read_secret, backend);
  if (!read) return read.error();
  auto write = derive_generation(algorithm, write_secret, backend);
  if (!write) return write.error();
  OneRttKeys k;
  k.algorithm_ = algorithm;
  k.hash_ = aead_hash(algorithm);
  k.read_ = std::move(read->current);
  k.read_next_ = std::move(read->next);
  k.read_next_secret_ = read->next_secret;
  k.write_ = std::move(write->current);
  k.write_next_ = std::move(write->next);
  k.write_next_secret_ = write->next_secret;
  return k;
}

void OneRttKeys::on_packet_sent(std::uint64_t pn) { lower(first_sent_pn_, pn); }

void OneRttKeys::on_ack_received(std::uint64_t largest_acked) { raise(largest_acked_, largest_acked); }

bool OneRttKeys::can_initiate_update() const {
  return write_generation_ == read_generation_ && first_sent_pn_ && largest_acked_ && *largest_acked_ >= *first_sent_pn_;
}

Status OneRttKeys::initiate_update() {
  if (!can_initiate_update()) {
    return Error{TransportError::kKeyUpdateError, "key update not permitted before the previous one is acknowledged"};
  }
  return roll_write();
}

// Derives the generation after next before touching any state, so a failure leaves the keys as
// they were.
Status OneRttKeys::roll_write() {
  auto secret = next_traffic_secret(hash_, write_next_secret_.bytes());
  if (!secret) return secret.error();
  auto keys = derive_updated_packet_keys(write_next_, secret->bytes());
  if (!keys) return keys.error();
  write_ = std::exchange(write_next_, std::move(keys.value()));
  write_next_secret_ = *secret;
  ++write_generation_;
  first_sent_pn_.reset();
  return {};
}

Status OneRttKeys::roll_read() {
  auto secret = next_traffic_secret(hash_, read_next_secret_.bytes());
  if (!secret) return secret.error();
  auto keys = derive_updated_packet_keys(read_next_, secret->bytes());
  if (!keys) return keys.error();
  read_prev_ = std::exchange(read_, std::exchange(read_next_, std::move(keys.value())));
  read_next_secret_ = *secret;
  ++read_generation_;
  prev_max_pn_ = read_max_pn_;
  read_min_pn_.reset();
  read_max_pn_.reset();
  return {};
}

OneRttKeys::ReadKeys OneRttKeys::select_read_keys(bool phase, std::uint64_t pn) const {
  const bool current_phase = (read_generation_ & 1) != 0;
  if (phase == current_phase) return {&read_, KeyEpoch::kCurrent};
  if (read_prev_ && read_min_pn_ && pn < *read_min_pn_) return {&*read_prev_, KeyEpoch::kPrevious};
  return {&read_next_, KeyEpoch::kNext};
}

Status OneRttKeys::on_packet_decrypted(KeyEpoch epoch, std::uint64_t pn) {
  switch (epoch) {
    case KeyEpoch::kPrevious:
      if (!read_prev_) return Error{TransportError::kInternalError, "previous keys already discarded"};
      if (read_min_pn_ && pn > *read_min_pn_) return kKeysWentBackwards;
      raise(prev_max_pn_, pn);
      return {};
    case KeyEpoch::kCurrent:
      if (prev_max_pn_ && pn < *prev_max_pn_) return kKeysWentBackwards;
      lower(read_min_pn_, pn);
      raise(read_max_pn_, pn);
      return {};
    case KeyEpoch::kNext: {
      if (read_max_pn_ && pn < *read_max_pn_) return kKeysWentBackwards;
      Status st = roll_read();
      if (!st) return st;
      read_min_pn_ = pn;
      read_max_pn_ = pn;
      // The peer initiated: answer by updating the write keys before anything is acknowledged.
      if (write_generation_ < read_generation_) return roll_write();
      return {};
    }
  }
  return Error{TransportError::kInternalError, "unknown key epoch"};
}

}  // namespace roam::crypto
