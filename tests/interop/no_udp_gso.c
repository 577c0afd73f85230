// LD_PRELOAD shim for the tshark capture test: the process sees a kernel without UDP GSO.
//
// On loopback, packet capture taps a UDP GSO send before it is split, so a capture of a GSO
// sender shows one 20-60 KB "datagram" per send, which no dissector can take apart (a QUIC short
// header packet runs to the end of its datagram). roam probes GSO with
// getsockopt(SOL_UDP, UDP_SEGMENT); answering ENOPROTOOPT there, as kernels before 4.18 do, makes
// roam send every datagram on its own, so the capture holds exactly the datagrams a peer receives.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

typedef int (*getsockopt_fn)(int, int, int, void*, socklen_t*);

int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  if (level == SOL_UDP && name == UDP_SEGMENT) {
    errno = ENOPROTOOPT;
    return -1;
  }
  static getsockopt_fn real = 0;
  if (!real) {
    // POSIX guarantees dlsym's result converts to a function pointer; copy it without a cast.
    void* sym = dlsym(RTLD_NEXT, "getsockopt");
    memcpy(&real, &sym, sizeof real);
    if (!real) {
      errno = ENOSYS;
      return -1;
    }
  }
  return real(fd, level, name, value, len);
}
