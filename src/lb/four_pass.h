// The draft's four-pass encryption (section 5.4.2, "General Case"): a four-round Feistel network
// over the server ID and nonce with AES-128-ECB as the round function. Odd lengths split the
// middle octet between the halves by nibble. Also used, with a server-local key, to turn a nonce
// counter into unpredictable nonces (see RoutableCidGenerator).
#pragma once

#include <cstddef>

#include "common/types.h"
#include "lb/aes_ecb.h"

namespace roam::lb {

// Shortest and longest input: each half must fit in the expanded block with the two trailing
// octets (length, pass), so up to 10 octets per half; QUIC-LB itself uses 5..19.
inline constexpr std::size_t kFourPassMinLen = 2;
inline constexpr std::size_t kFourPassMaxLen = 20;

// Encrypts data in place. False if data's length is outside [kFourPassMinLen, kFourPassMaxLen]
// or the library fails.
[[nodiscard]] bool four_pass_encrypt(const AesEcb& aes, MutBytes data);

// Decrypts data in place. With all_passes = false it stops after three passes, as a load balancer
// may when the server ID is no longer than the nonce: then only the first data.size() / 2 octets
// (left_0, without the shared nibble of an odd length) hold plaintext.
[[nodiscard]] bool four_pass_decrypt(const AesEcb& aes, MutBytes data, bool all_passes = true);

}  // namespace roam::lb
