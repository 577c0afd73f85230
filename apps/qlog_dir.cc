#include "qlog_dir.h"

#include <filesystem>

namespace roam::apps {

bool enable_qlog_dir(const std::string& dir, conn::ConnectionConfig& config, std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    error = "cannot use --qlog-dir " + dir + ": " + (ec ? ec.message() : "not a directory");
    return false;
  }
  config.qlog_sink_factory = [dir](const ConnectionId& odcid, bool server) {
    return qlog::open_file_sink(dir + "/" + odcid.hex() + (server ? "_server" : "_client") + ".sqlog");
  };
  return true;
}

}  // namespace roam::apps
