// A non-blocking Linux UDP socket that moves batches: recvmmsg with UDP GRO, sendmmsg with UDP
// GSO, per-datagram local addresses (PKTINFO) and ECN bits. It declares what the kernel supports
// (Capabilities) so the core can shape its batches, and degrades by itself when a path rejects
// GSO at run time.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/socket_address.h"
#include "io/datagram.h"
#include "io/receive_batch.h"
#include "io/sys_result.h"
#include "io/syscalls.h"

namespace roam::io {

// What this socket can do, detected when it is opened (each option is set and kept if the kernel
// accepts it). gso can turn off later if a send shows the path does not support it.
struct Capabilities {
  bool gso = false;       // UDP_SEGMENT: one send carries many equal-size datagrams
  bool gro = false;       // UDP_GRO: one receive returns a train of datagrams to split
  bool pktinfo = false;   // each received datagram reports its destination address
  bool ecn = false;       // each received datagram reports its ECN bits
  std::size_t max_gso_segments = 1;  // datagrams per GSO send (1 without GSO)
};

struct SocketOptions {
  bool reuse_port = false;        // SO_REUSEPORT (a group of sockets on one port; cBPF steering)
  int recv_buffer_bytes = 0;      // 0: kernel default; else SO_RCVBUFFORCE, falling back to SO_RCVBUF
  int send_buffer_bytes = 0;      // 0: kernel default; else SO_SNDBUFFORCE, falling back to SO_SNDBUF
  bool gso = true;                // use UDP GSO if the kernel has it
  bool gro = true;                // ask for UDP GRO
  bool pktinfo = true;            // IP_PKTINFO / IPV6_RECVPKTINFO
  bool ecn = true;                // IP_RECVTOS / IPV6_RECVTCLASS
  bool ipv6_only = false;         // IPv6 sockets: true = IPv6 only, false = dual-stack (v4 as ::ffff:a.b.c.d)
  bool dont_fragment = true;      // IP(V6)_PMTUDISC_PROBE: DF set, EMSGSIZE above the interface MTU
  std::string bind_device;        // SO_BINDTODEVICE when not empty
  std::size_t max_gso_segments = 64;  // the kernel's UDP_MAX_SEGMENTS is 64 (128 on newer kernels)
};

// Counters since open.
struct SocketStats {
  std::uint64_t send_calls = 0;          // sendmmsg calls that sent something
  std::uint64_t datagrams_sent = 0;      // datagrams on the wire (a GSO send of N counts N)
  std::uint64_t receive_calls = 0;       // recvmmsg calls that returned something
  std::uint64_t datagrams_received = 0;  // after splitting GRO trains
  std::uint64_t receive_dropped = 0;     // truncated or unreadable messages
  std::uint64_t gso_fallbacks = 0;       // times a GSO send was refused and resent without GSO
};

class UdpSocket {
 public:
  // Messages per sendmmsg call.
  static constexpr std::size_t kSendBatch = 64;

  // Creates, configures and binds a socket. Port 0 picks a free port (see local_address()).
  // Options the user asked for explicitly (reuse_port, bind_device, ipv6_only) fail the open when
  // the kernel refuses them; the optional features only lower capabilities().
  static SysResult<UdpSocket> open(const SocketAddress& local, const SocketOptions& options = {});

  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  ~UdpSocket();

  int fd() const { return fd_; }
  // The bound address, with the real port after binding port 0.
  const SocketAddress& local_address() const { return local_; }
  const Capabilities& capabilities() const { return caps_; }
  const SocketStats& stats() const { return stats_; }
  bool is_ipv6() const { return local_.is_ipv6(); }

  // One recvmmsg into batch. Returns the number of datagrams now in batch (GRO trains split);
  // 0 when nothing is waiting or on error (then batch.error() is the errno).
  std::size_t receive(ReceiveBatch& batch);

  // Sends transmits in order with as few sendmmsg calls as possible; see SendResult. Never blocks.
  SendResult send(std::span<const Transmit> transmits);

  // Fault-injection seam for tests; nullptr restores the real system calls.
  void set_syscalls(Syscalls* syscalls) { sys_ = syscalls != nullptr ? syscalls : &Syscalls::real(); }

  void close();

 private:
  struct SendState;

  UdpSocket(int fd, const SocketAddress& local, const Capabilities& caps);
  void disable_gso();

  int fd_ = -1;
  SocketAddress local_;
  Capabilities caps_;
  SocketStats stats_;
  Syscalls* sys_ = &Syscalls::real();
  std::unique_ptr<SendState> send_;
};

}  // namespace roam::io
