// The one place real randomness enters roam: a roam::Random backed by the system CSPRNG. The
// protocol core only sees the Random interface; apps construct this, tests use SeededRandom.
#pragma once

#include "common/random.h"

namespace roam::crypto {

class SystemRandom final : public Random {
 public:
  // gnutls_rnd(GNUTLS_RND_RANDOM); if GnuTLS reports failure, getrandom(2). If both fail there is
  // no safe way to continue (keys, CIDs and tokens would be predictable) and the process aborts.
  void fill(MutBytes out) override;
};

}  // namespace roam::crypto
