#include "io/syscalls.h"

namespace roam::io {

int Syscalls::sendmmsg(int fd, mmsghdr* msgs, unsigned int count, int flags) {
  return ::sendmmsg(fd, msgs, count, flags);
}

int Syscalls::recvmmsg(int fd, mmsghdr* msgs, unsigned int count, int flags, timespec* timeout) {
  return ::recvmmsg(fd, msgs, count, flags, timeout);
}

Syscalls& Syscalls::real() {
  static Syscalls instance;
  return instance;
}

}  // namespace roam::io
