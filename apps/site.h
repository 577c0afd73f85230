// What roam-server serves over h3 and hq-interop: the files under a directory (--root), or the
// built-in demo site compiled in from www/ (without --root). Both answer the same question: which
// resource does a request target name, and is the target acceptable at all?
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/types.h"

namespace roam::apps {

// The bytes of one resource, read at offsets (a file through pread, or memory).
class Resource {
 public:
  virtual ~Resource() = default;
  virtual std::uint64_t size() const = 0;
  // Up to out.size() bytes at `offset` (0 at the end); nullopt when the resource cannot be read.
  virtual std::optional<std::size_t> read_at(std::uint64_t offset, MutBytes out) = 0;
};

enum class LookupStatus : std::uint8_t {
  kFound,
  kBadRequest,  // malformed target: not starting with '/', bad percent-encoding, NUL, a ".." segment
  kNotFound,    // nothing there, not a regular file, or outside the served tree (a symlink out)
};

struct Lookup {
  LookupStatus status = LookupStatus::kNotFound;
  std::unique_ptr<Resource> resource;  // when found
  std::string content_type;
};

class Site {
 public:
  virtual ~Site() = default;
  // The resource a request target ("/a/b.txt?q") names; a target ending in '/' names that
  // directory's index.html.
  virtual Lookup find(std::string_view target) const = 0;
  // For the startup line: "/srv/www" or "the built-in demo site".
  virtual std::string description() const = 0;
};

// root is made canonical; a root that does not exist serves nothing (every lookup: not found).
std::unique_ptr<Site> make_directory_site(const std::filesystem::path& root);
std::unique_ptr<Site> make_builtin_site();

// The decoded path segments of a request target (query cut off, "." and empty segments dropped,
// "index.html" appended for a trailing '/'), or nullopt for a malformed target (see kBadRequest).
std::optional<std::vector<std::string>> target_segments(std::string_view target);

// The regular file a target names under `root` (canonical; symlinks resolved and required to stay
// inside root): status kFound with its canonical path, or why not.
struct FileLookup {
  LookupStatus status = LookupStatus::kNotFound;
  std::filesystem::path path;
};
FileLookup file_under(const std::filesystem::path& root, std::string_view target);

// A Content-Type for a file name, by extension ("application/octet-stream" when unknown).
std::string_view content_type_for(std::string_view name);

}  // namespace roam::apps
