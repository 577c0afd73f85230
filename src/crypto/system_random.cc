#include "crypto/system_random.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace roam::crypto {

namespace {
bool fill_getrandom(MutBytes out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}
}  // namespace

void SystemRandom::fill(MutBytes out) {
  if (out.empty()) return;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, out.data(), out.size()) == 0) return;
  if (fill_getrandom(out)) return;
  std::fputs("roam: no system randomness available (gnutls_rnd and getrandom failed)\n", stderr);
  std::abort();
}

}  // namespace roam::crypto
