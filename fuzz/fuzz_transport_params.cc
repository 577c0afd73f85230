// Decodes the input as transport parameters sent by a client and by a server. Whatever decodes
// must re-encode, and the re-encoding must decode to the same parameters and re-encode to the
// same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "wire/transport_params.h"

namespace {

void check(roam::Bytes data, roam::wire::Perspective sender) {
  using namespace roam::wire;
  auto first = decode_transport_parameters(data, sender);
  if (!first.ok()) {
    if (first.error().code != roam::TransportError::kTransportParameterError) std::abort();
    return;
  }
  auto encoded = encode_transport_parameters(*first, sender);
  if (!encoded.ok()) std::abort();
  auto second = decode_transport_parameters(*encoded, sender);
  if (!second.ok() || !(*second == *first)) std::abort();
  auto again = encode_transport_parameters(*second, sender);
  if (!again.ok() || *again != *encoded) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const roam::Bytes input(data, size);
  check(input, roam::wire::Perspective::kClient);
  check(input, roam::wire::Perspective::kServer);
  return 0;
}
