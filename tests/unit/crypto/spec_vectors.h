// Reads hex values straight out of ../shared/specs/rfc9001-test-vectors.md (RFC 9001 Appendix A)
// so the tests compare against the RFC text itself, not a transcription.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace roam::crypto::testing {

using ByteVec = std::vector<std::uint8_t>;

// The whole vectors file (empty string if it cannot be read; tests then fail on missing values).
const std::string& rfc9001_vectors();

// The text of the "## <title>" section, up to the next "## " heading.
std::string_view section(std::string_view text, std::string_view title);

// The hex value that follows `anchor`: the first "<sep> <hex>" after it whose token is hex,
// continued over following lines that hold only hex. Empty if not found.
ByteVec value_after(std::string_view text, std::string_view anchor, char sep = '=');

// All hex in the first ~~~ fenced block after `anchor` (whitespace ignored).
ByteVec block_after(std::string_view text, std::string_view anchor);

ByteVec hex(std::string_view s);  // whitespace ignored; empty on bad input
std::string to_hex(const ByteVec& v);

}  // namespace roam::crypto::testing
