// The per-batch system calls of the datapath behind a small interface. Production uses real();
// tests substitute a subclass to inject what the loopback device never produces (EAGAIN on a
// UDP send, EIO from a NIC without GSO checksum offload) while still forwarding to the kernel.
#pragma once

#include <sys/socket.h>
#include <time.h>

namespace roam::io {

class Syscalls {
 public:
  virtual ~Syscalls() = default;
  // Same contracts as the Linux calls: a count, or -1 with errno set.
  virtual int sendmmsg(int fd, mmsghdr* msgs, unsigned int count, int flags);
  virtual int recvmmsg(int fd, mmsghdr* msgs, unsigned int count, int flags, timespec* timeout);

  // The process-wide instance that calls the kernel directly.
  static Syscalls& real();
};

}  // namespace roam::io
