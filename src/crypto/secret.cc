#include "crypto/secret.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace roam::crypto {

void cleanse(MutBytes bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

bool constant_time_equal(Bytes a, Bytes b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Secret::Secret(Bytes bytes) : len_(std::min(bytes.size(), kMaxSize)) {
  std::copy_n(bytes.begin(), len_, data_.begin());
}

Secret::Secret(const Secret& other) : len_(other.len_) {
  std::copy_n(other.data_.begin(), len_, data_.begin());
}

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    cleanse(data_);
    len_ = other.len_;
    std::copy_n(other.data_.begin(), len_, data_.begin());
  }
  return *this;
}

Secret::~Secret() { cleanse(data_); }

MutBytes Secret::resize(std::size_t n) {
  len_ = std::min(n, kMaxSize);
  return {data_.data(), len_};
}

bool operator==(const Secret& a, const Secret& b) { return constant_time_equal(a.bytes(), b.bytes()); }

}  // namespace roam::crypto
