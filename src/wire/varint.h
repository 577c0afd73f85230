// QUIC variable-length integers (RFC 9000 section 16) and bounds-checked byte cursors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/types.h"

namespace roam::wire {

inline constexpr std::uint64_t kVarintMax = (1ull << 62) - 1;

// Number of bytes the shortest encoding of v takes (1, 2, 4 or 8). v must be <= kVarintMax.
constexpr std::size_t varint_size(std::uint64_t v) {
  return v < (1u << 6) ? 1 : v < (1u << 14) ? 2 : v < (1u << 30) ? 4 : 8;
}

// Reads from a byte span; every read checks bounds and reports failure instead of overrunning.
// After a failed read the reader is left where it was.
class Reader {
 public:
  explicit Reader(Bytes data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t position() const { return pos_; }
  bool empty() const { return pos_ == data_.size(); }
  Bytes rest() const { return data_.subspan(pos_); }
  Bytes consumed() const { return data_.first(pos_); }

  bool read_u8(std::uint8_t& out) {
    if (remaining() < 1) return false;
    out = data_[pos_++];
    return true;
  }
  bool peek_u8(std::uint8_t& out) const {
    if (remaining() < 1) return false;
    out = data_[pos_];
    return true;
  }
  // Big-endian unsigned integer of n bytes (1..8).
  bool read_uint(std::size_t n, std::uint64_t& out) {
    if (n == 0 || n > 8 || remaining() < n) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v << 8 | data_[pos_ + i];
    pos_ += n;
    out = v;
    return true;
  }
  bool read_u16(std::uint16_t& out) {
    std::uint64_t v;
    if (!read_uint(2, v)) return false;
    out = static_cast<std::uint16_t>(v);
    return true;
  }
  bool read_u32(std::uint32_t& out) {
    std::uint64_t v;
    if (!read_uint(4, v)) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
  }
  bool read_varint(std::uint64_t& out) {
    if (remaining() < 1) return false;
    const std::size_t n = std::size_t{1} << (data_[pos_] >> 6);
    if (remaining() < n) return false;
    std::uint64_t v = data_[pos_] & 0x3f;
    for (std::size_t i = 1; i < n; ++i) v = v << 8 | data_[pos_ + i];
    pos_ += n;
    out = v;
    return true;
  }
  bool read_bytes(std::size_t n, Bytes& out) {
    if (remaining() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  Bytes data_;
  std::size_t pos_ = 0;
};

// Writes into a caller-owned buffer; a write that does not fit fails and sets overflow(), and
// leaves the buffer as it was for that write. Callers check ok() once at the end.
class Writer {
 public:
  explicit Writer(MutBytes buf) : buf_(buf) {}

  std::size_t size() const { return pos_; }
  std::size_t remaining() const { return buf_.size() - pos_; }
  std::size_t capacity() const { return buf_.size(); }
  bool ok() const { return !overflow_; }
  Bytes written() const { return {buf_.data(), pos_}; }
  std::uint8_t* data() { return buf_.data(); }
  std::uint8_t* cursor() { return buf_.data() + pos_; }

  bool write_u8(std::uint8_t v) {
    if (!reserve(1)) return false;
    buf_[pos_++] = v;
    return true;
  }
  bool write_uint(std::uint64_t v, std::size_t n) {
    if (n == 0 || n > 8 || !reserve(n)) return false;
    for (std::size_t i = 0; i < n; ++i) buf_[pos_ + i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
    pos_ += n;
    return true;
  }
  bool write_u16(std::uint16_t v) { return write_uint(v, 2); }
  bool write_u32(std::uint32_t v) { return write_uint(v, 4); }
  // Shortest encoding. Values above kVarintMax are a programming error: they fail.
  bool write_varint(std::uint64_t v) {
    if (v > kVarintMax) return fail();
    return write_varint_n(v, varint_size(v));
  }
  // Encoding with a fixed length n in {1,2,4,8} (used for length fields patched later).
  bool write_varint_n(std::uint64_t v, std::size_t n) {
    if (v > kVarintMax || (n != 1 && n != 2 && n != 4 && n != 8) || varint_size(v) > n) return fail();
    if (!reserve(n)) return false;
    const std::uint8_t prefix = n == 1 ? 0x00 : n == 2 ? 0x40 : n == 4 ? 0x80 : 0xc0;
    for (std::size_t i = 0; i < n; ++i) buf_[pos_ + i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
    buf_[pos_] |= prefix;
    pos_ += n;
    return true;
  }
  bool write_bytes(Bytes b) {
    if (!reserve(b.size())) return false;
    if (!b.empty()) std::memcpy(buf_.data() + pos_, b.data(), b.size());
    pos_ += b.size();
    return true;
  }
  bool write_zeros(std::size_t n) {
    if (!reserve(n)) return false;
    std::memset(buf_.data() + pos_, 0, n);
    pos_ += n;
    return true;
  }
  // Advances over n bytes the caller fills directly (e.g. via cursor()).
  bool advance(std::size_t n) {
    if (!reserve(n)) return false;
    pos_ += n;
    return true;
  }

 private:
  bool reserve(std::size_t n) {
    if (overflow_ || remaining() < n) return fail();
    return true;
  }
  bool fail() {
    overflow_ = true;
    return false;
  }
  MutBytes buf_;
  std::size_t pos_ = 0;
  bool overflow_ = false;
};

}  // namespace roam::wire
