#include "io/udp_socket.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "io/control_message.h"

namespace roam::io {

struct UdpSocket::SendState {
  // Where a message of the current batch sits in the caller's transmits.
  struct Piece {
    std::size_t transmit = 0;
    std::size_t begin = 0;  // byte range of transmits[transmit].data
    std::size_t end = 0;
    std::size_t segment = 0;  // GSO segment size, 0 when sent as one datagram
    std::size_t datagrams = 1;
  };
  std::array<mmsghdr, kSendBatch> headers{};
  std::array<iovec, kSendBatch> iov{};
  std::array<sockaddr_storage, kSendBatch> names{};
  alignas(cmsghdr) std::uint8_t control[kSendBatch][kControlBufferSize]{};
  std::array<Piece, kSendBatch> pieces{};
};

namespace {

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

bool set_int(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof(value)) == 0;
}

// Sets a buffer size, first with the privileged option that ignores the sysctl ceiling
// (net.core.rmem_max / wmem_max), then with the ordinary one, which the kernel clamps.
bool set_buffer(int fd, int force_name, int name, int bytes) {
  return set_int(fd, SOL_SOCKET, force_name, bytes) || set_int(fd, SOL_SOCKET, name, bytes);
}

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

}  // namespace

SysResult<UdpSocket> UdpSocket::open(const SocketAddress& local, const SocketOptions& options) {
  const bool v6 = local.is_ipv6();
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return last_error("socket");
  FdGuard guard(fd);

  if (v6 && !set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, options.ipv6_only ? 1 : 0)) {
    return last_error("setsockopt(IPV6_V6ONLY)");
  }
  if (options.reuse_port && !set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)) {
    return last_error("setsockopt(SO_REUSEPORT)");
  }
  if (!options.bind_device.empty() &&
      ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, options.bind_device.data(),
                   static_cast<socklen_t>(options.bind_device.size())) != 0) {
    return last_error("setsockopt(SO_BINDTODEVICE)");
  }
  if (options.recv_buffer_bytes > 0 && !set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, options.recv_buffer_bytes)) {
    return last_error("setsockopt(SO_RCVBUF)");
  }
  if (options.send_buffer_bytes > 0 && !set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, options.send_buffer_bytes)) {
    return last_error("setsockopt(SO_SNDBUF)");
  }
  if (options.dont_fragment) {
    // QUIC datagrams must not be fragmented (RFC 9000 section 14). PROBE sets DF and ignores
    // cached path-MTU estimates: PMTU discovery is the transport's job (DPLPMTUD).
    if (v6) {
      if (!set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)) {
        return last_error("setsockopt(IPV6_MTU_DISCOVER)");
      }
      if (!options.ipv6_only) set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);  // IPv4 via dual stack
    } else if (!set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)) {
      return last_error("setsockopt(IP_MTU_DISCOVER)");
    }
  }

  sockaddr_storage ss;
  const socklen_t len = local.to_sockaddr(ss);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) return last_error("bind");
  socklen_t bound_len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &bound_len) != 0) return last_error("getsockname");
  const auto bound = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), bound_len);
  if (!bound) return SysError{"getsockname", EAFNOSUPPORT};

  Capabilities caps;
  caps.gro = options.gro && set_int(fd, SOL_UDP, UDP_GRO, 1);
  if (options.gso) {
    int gso_size = 0;
    socklen_t optlen = sizeof(gso_size);
    caps.gso = ::getsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso_size, &optlen) == 0 && options.max_gso_segments > 1;
  }
  caps.max_gso_segments = caps.gso ? std::min<std::size_t>(options.max_gso_segments, 128) : 1;
  if (options.pktinfo) {
    caps.pktinfo = v6 ? set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) : set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
  }
  if (options.ecn) {
    // On a dual-stack socket IPv4 datagrams report their TOS only through IP_RECVTOS.
    caps.ecn = v6 ? set_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1) &&
                        (options.ipv6_only || set_int(fd, IPPROTO_IP, IP_RECVTOS, 1))
                  : set_int(fd, IPPROTO_IP, IP_RECVTOS, 1);
  }
  return UdpSocket(guard.release(), *bound, caps);
}

UdpSocket::UdpSocket(int fd, const SocketAddress& local, const Capabilities& caps)
    : fd_(fd), local_(local), caps_(caps), send_(std::make_unique<SendState>()) {}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      local_(other.local_),
      caps_(other.caps_),
      stats_(other.stats_),
      sys_(other.sys_),
      send_(std::move(other.send_)) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    local_ = other.local_;
    caps_ = other.caps_;
    stats_ = other.stats_;
    sys_ = other.sys_;
    send_ = std::move(other.send_);
  }
  return *this;
}

UdpSocket::~UdpSocket() { close(); }

void UdpSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void UdpSocket::disable_gso() {
  caps_.gso = false;
  caps_.max_gso_segments = 1;
  ++stats_.gso_fallbacks;
}

std::size_t UdpSocket::receive(ReceiveBatch& batch) {
  batch.prepare();
  int n;
  do {
    n = sys_->recvmmsg(fd_, batch.headers_.data(), static_cast<unsigned>(batch.headers_.size()), 0, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) batch.error_ = errno;
    return 0;
  }
  if (n > 0) ++stats_.receive_calls;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    const msghdr& h = batch.headers_[i].msg_hdr;
    const std::size_t len = batch.headers_[i].msg_len;
    const auto peer = SocketAddress::from_sockaddr(static_cast<const sockaddr*>(h.msg_name), h.msg_namelen);
    if ((h.msg_flags & MSG_TRUNC) != 0 || len > batch.buffer_size_ || !peer) {
      ++batch.dropped_;
      continue;
    }
    const ReceiveControl control = parse_receive_control(h);
    ReceivedDatagram d;
    d.local = control.local_ip ? control.local_ip->with_port(local_.port()) : local_;
    d.peer = *peer;
    d.ecn = control.tos ? static_cast<std::uint8_t>(*control.tos & 0x3) : kEcnNotEct;
    d.interface_index = control.interface_index;
    const std::uint8_t* base = batch.data_.data() + i * batch.buffer_size_;
    const std::size_t segment = control.gro_segment_size != 0 ? control.gro_segment_size : len;
    if (len == 0) {
      d.data = Bytes(base, 0);
      batch.datagrams_.push_back(d);
      continue;
    }
    for (std::size_t off = 0; off < len; off += segment) {
      d.data = Bytes(base + off, std::min(segment, len - off));
      batch.datagrams_.push_back(d);
    }
  }
  stats_.receive_dropped += batch.dropped_;
  stats_.datagrams_received += batch.datagrams_.size();
  return batch.datagrams_.size();
}

namespace {

// errno for a transmit this socket cannot send at all (checked before any syscall, so that such
// an error is never mistaken for a GSO refusal), or 0.
int check_transmit(const Transmit& tx, bool socket_v6) {
  if (tx.peer.is_ipv6() && !socket_v6) return EAFNOSUPPORT;
  if (!tx.local.is_unspecified() && tx.local.family() != tx.peer.family()) return EAFNOSUPPORT;
  if (tx.peer.port() == 0) return EINVAL;
  return 0;
}

}  // namespace

SendResult UdpSocket::send(std::span<const Transmit> transmits) {
  SendState& s = *send_;
  const bool v6 = is_ipv6();
  std::size_t t = 0;       // position: transmits[t], byte offset
  std::size_t offset = 0;

  // Fills message slot i with bytes [begin, begin + len) of tx, as GSO of `segment` if nonzero.
  auto fill = [&](std::size_t i, std::size_t index, std::size_t begin, std::size_t len, std::size_t segment) {
    const Transmit& tx = transmits[index];
    s.iov[i] = iovec{const_cast<std::uint8_t*>(tx.data.data()) + begin, len};
    msghdr& h = s.headers[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &s.names[i];
    h.msg_namelen = v6 ? tx.peer.to_sockaddr_in6(s.names[i]) : tx.peer.to_sockaddr(s.names[i]);
    h.msg_iov = &s.iov[i];
    h.msg_iovlen = 1;
    SendControl control;
    control.source = tx.local;
    control.ipv4_peer = tx.peer.is_ipv4();
    control.ecn = tx.ecn;
    control.gso_segment_size = static_cast<std::uint16_t>(segment);
    const std::size_t control_len = build_send_control(std::span<std::uint8_t>(s.control[i], kControlBufferSize), control);
    h.msg_control = control_len != 0 ? s.control[i] : nullptr;
    h.msg_controllen = control_len;
    s.pieces[i] = {index, begin, begin + len, segment,
                   segment != 0 ? ceil_div(len, segment) : 1};
  };
  auto advance = [&](const SendState::Piece& p) {
    t = p.transmit;
    offset = p.end;
    if (offset >= transmits[t].data.size()) {
      ++t;
      offset = 0;
    }
  };
  auto send_messages = [&](std::size_t count) {
    int n;
    do {
      n = sys_->sendmmsg(fd_, s.headers.data(), static_cast<unsigned>(count), 0);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {  // not expected for count > 0; never loop on it
      n = -1;
      errno = EAGAIN;
    }
    if (n > 0) {
      ++stats_.send_calls;
      for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) stats_.datagrams_sent += s.pieces[i].datagrams;
      advance(s.pieces[static_cast<std::size_t>(n) - 1]);
    }
    return n;
  };
  auto stop = [&](SendStatus status, int err) {
    return SendResult{t, offset, status, err};
  };

  while (t < transmits.size()) {
    std::size_t count = 0;
    std::size_t bt = t;
    std::size_t bo = offset;
    int invalid = 0;
    while (count < kSendBatch && bt < transmits.size()) {
      const Transmit& tx = transmits[bt];
      if ((invalid = check_transmit(tx, v6)) != 0) break;
      const std::size_t total = tx.data.size();
      const std::size_t seg = tx.segment_size == 0 || tx.segment_size >= total ? total : tx.segment_size;
      std::size_t len = std::min(seg, total - bo);
      std::size_t gso_segment = 0;
      if (seg < total && caps_.gso) {
        const std::size_t max_segments =
            std::max<std::size_t>(1, std::min(caps_.max_gso_segments, kMaxUdpPayload / seg));
        len = std::min(total - bo, seg * max_segments);
        if (len > seg) gso_segment = seg;
      }
      fill(count++, bt, bo, len, gso_segment);
      bo += len;
      if (bo >= total) {
        ++bt;
        bo = 0;
      }
    }
    if (count == 0) return stop(SendStatus::kError, invalid);

    if (send_messages(count) > 0) continue;
    int err = errno;
    const SendState::Piece first = s.pieces[0];
    if ((err == EIO || err == EINVAL) && first.segment != 0) {
      // Some devices and paths refuse GSO (no checksum offload, tunnels). Retry the first
      // segment alone: if that goes out, GSO was the problem and this socket stops using it.
      fill(0, first.transmit, first.begin, first.segment, 0);
      if (send_messages(1) > 0) {
        disable_gso();
        continue;
      }
      err = errno;
    }
    if (err == EAGAIN || err == EWOULDBLOCK) return stop(SendStatus::kWouldBlock, err);
    if (err == EMSGSIZE) return stop(SendStatus::kMessageTooBig, err);
    return stop(SendStatus::kError, err);
  }
  return SendResult{t, 0, SendStatus::kOk, 0};
}

}  // namespace roam::io
