// roam-client --session-file: what a connection leaves for the next one to resume with (the TLS
// session ticket, the server's transport parameters and its NEW_TOKEN token), in a small binary
// file: "roam-session 2\n" then four blobs (ticket, transport parameters, token, ALPN), each a
// 4-byte big-endian length and its bytes.
#pragma once

#include <optional>
#include <string>

#include "conn/connection.h"

namespace roam::apps {

// nullopt if the file does not exist; an error message in `error` if it exists but is unusable.
std::optional<conn::ResumptionState> load_session_file(const std::string& path, std::string& error);
// Writes atomically (a temporary file renamed over the old one); false with `error` on failure.
bool save_session_file(const std::string& path, const conn::ResumptionState& state, std::string& error);

}  // namespace roam::apps
