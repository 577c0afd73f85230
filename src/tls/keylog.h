// NSS key log writer (the SSLKEYLOGFILE format Wireshark and tshark read):
//   <LABEL> <client random, hex> <secret, hex>\n
// Lines are appended and flushed one by one, so a capture can be decrypted while it runs.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/types.h"

namespace roam::tls {

class KeylogWriter {
 public:
  // Opens (creating if needed) the file for appending.
  static Result<std::unique_ptr<KeylogWriter>> open(const std::string& path);
  KeylogWriter(const KeylogWriter&) = delete;
  KeylogWriter& operator=(const KeylogWriter&) = delete;
  ~KeylogWriter();

  // Safe to call from sessions of one context running on different threads.
  void write(std::string_view label, Bytes client_random, Bytes secret);

 private:
  explicit KeylogWriter(std::FILE* file) : file_(file) {}
  std::mutex mu_;
  std::FILE* file_;
};

}  // namespace roam::tls
