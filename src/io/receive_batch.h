// Preallocated buffers for one recvmmsg call and the datagrams parsed out of them. Reused across
// calls: after the first receive nothing is allocated, and datagrams point into the buffers.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "io/datagram.h"

namespace roam::io {

class ReceiveBatch {
 public:
  static constexpr std::size_t kDefaultMessages = 64;
  // 64 KiB holds a whole GRO-coalesced train (the kernel stops coalescing at 64 KiB).
  static constexpr std::size_t kDefaultBufferSize = 65536;

  // messages: recvmmsg slots (>= 1); buffer_size: bytes per slot (>= 1). A datagram larger than
  // buffer_size is dropped (counted in dropped()).
  explicit ReceiveBatch(std::size_t messages = kDefaultMessages, std::size_t buffer_size = kDefaultBufferSize);

  ReceiveBatch(const ReceiveBatch&) = delete;
  ReceiveBatch& operator=(const ReceiveBatch&) = delete;
  ReceiveBatch(ReceiveBatch&&) = default;
  ReceiveBatch& operator=(ReceiveBatch&&) = default;

  // The datagrams of the last receive(): GRO trains are already split.
  std::span<const ReceivedDatagram> datagrams() const { return datagrams_; }
  std::size_t size() const { return datagrams_.size(); }
  bool empty() const { return datagrams_.empty(); }
  const ReceivedDatagram& operator[](std::size_t i) const { return datagrams_[i]; }
  auto begin() const { return datagrams_.cbegin(); }
  auto end() const { return datagrams_.cend(); }

  std::size_t messages() const { return headers_.size(); }
  std::size_t buffer_size() const { return buffer_size_; }
  // errno of the last receive() if it failed for a reason other than "nothing to read", else 0.
  int error() const { return error_; }
  // Messages the last receive() dropped: truncated, or with an unreadable source address.
  std::size_t dropped() const { return dropped_; }

 private:
  friend class UdpSocket;
  void prepare();  // resets the headers for the next recvmmsg

  std::size_t buffer_size_;
  std::vector<std::uint8_t> data_;
  std::vector<std::uint8_t> control_;  // kControlBufferSize per message; operator new aligns it
  std::vector<sockaddr_storage> names_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> headers_;
  std::vector<ReceivedDatagram> datagrams_;
  int error_ = 0;
  std::size_t dropped_ = 0;
};

}  // namespace roam::io
