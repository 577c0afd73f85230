// The built-in demo site: every file under www/, compiled into roam-server (the build generates
// www_files.cc from the directory with embed_www.cmake).
#pragma once

#include <cstddef>

namespace roam::apps::www {

struct File {
  const char* path;  // relative to www/, '/'-separated ("index.html", "img/roam.png")
  const unsigned char* data;
  std::size_t size;
};

extern const File kFiles[];
extern const std::size_t kFileCount;

}  // namespace roam::apps::www
