// The library's one real clock: CLOCK_MONOTONIC as a roam::Instant. Only the event loop and
// applications read it; the protocol core receives time as an argument.
#pragma once

#include "common/types.h"

namespace roam::io {

Instant monotonic_now();

}  // namespace roam::io
