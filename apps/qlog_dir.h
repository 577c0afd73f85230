// --qlog-dir: one qlog file per connection, named <original DCID>_<client|server>.sqlog.
#pragma once

#include <string>

#include "conn/config.h"

namespace roam::apps {

// Creates the directory if needed and sets the connection config's qlog factory. On failure
// returns false with a one-line reason in `error`.
bool enable_qlog_dir(const std::string& dir, conn::ConnectionConfig& config, std::string& error);

}  // namespace roam::apps
