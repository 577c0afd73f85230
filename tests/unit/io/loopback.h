// Helpers for the loopback socket tests: bounded waits and copies of received datagrams.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "io/udp_socket.h"

namespace roam::io::loopback {

struct Copied {
  SocketAddress local;
  SocketAddress peer;
  std::uint8_t ecn = 0;
  std::vector<std::uint8_t> data;
};

// Receives until `want` datagrams have arrived or `limit` has passed, whichever is first.
inline std::vector<Copied> receive_n(UdpSocket& socket, std::size_t want, ReceiveBatch& batch,
                                     std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  std::vector<Copied> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{socket.fd(), POLLIN, 0};
    ::poll(&p, 1, 20);
    while (socket.receive(batch) > 0) {
      for (const auto& d : batch) out.push_back({d.local, d.peer, d.ecn, {d.data.begin(), d.data.end()}});
    }
  }
  return out;
}

// Whatever is still queued, without waiting beyond `settle`.
inline std::size_t drain(UdpSocket& socket, ReceiveBatch& batch,
                         std::chrono::milliseconds settle = std::chrono::milliseconds(50)) {
  return receive_n(socket, SIZE_MAX, batch, settle).size();
}

// Bytes 0..n-1 with a pattern that differs per datagram index and position.
inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed = 0) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 31 + seed + i / 251);
  return v;
}

inline UdpSocket open_or_die(const SocketAddress& local, const SocketOptions& options = {}) {
  auto s = UdpSocket::open(local, options);
  if (!s) {
    ADD_FAILURE() << "open " << local.to_string() << ": " << s.error().message();
    std::abort();
  }
  return std::move(s).value();
}

}  // namespace roam::io::loopback
