#include "tls/keylog.h"

#include <fcntl.h>
#include <unistd.h>

namespace roam::tls {

Result<std::unique_ptr<KeylogWriter>> KeylogWriter::open(const std::string& path) {
  // Secrets: create the file readable by its owner only.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Error{TransportError::kInternalError, "cannot open the key log file"};
  std::FILE* file = ::fdopen(fd, "a");
  if (file == nullptr) {
    ::close(fd);
    return Error{TransportError::kInternalError, "cannot open the key log file"};
  }
  return std::unique_ptr<KeylogWriter>(new KeylogWriter(file));
}

KeylogWriter::~KeylogWriter() { std::fclose(file_); }

void KeylogWriter::write(std::string_view label, Bytes client_random, Bytes secret) {
  std::string line;
  line.reserve(label.size() + 2 + 2 * (client_random.size() + secret.size()) + 1);
  line.append(label);
  line.push_back(' ');
  line.append(to_hex(client_random));
  line.push_back(' ');
  line.append(to_hex(secret));
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace roam::tls
