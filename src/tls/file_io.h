// Small whole-file helpers for PEM and key log files (setup code, never the packet path).
#pragma once

#include <string>
#include <string_view>

namespace roam::tls::detail {

// Reads the whole file; false when it cannot be opened or read.
bool read_file(const std::string& path, std::string& out);

// Creates or truncates the file with the given permission bits and writes all of contents.
bool write_file(const std::string& path, std::string_view contents, unsigned mode);

}  // namespace roam::tls::detail
