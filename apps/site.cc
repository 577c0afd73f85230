#include "site.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "www_files.h"

namespace roam::apps {

namespace fs = std::filesystem;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Is `p` root itself or inside it? Both canonical.
bool is_within(const fs::path& root, const fs::path& p) {
  auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end();
}

class FileResource final : public Resource {
 public:
  FileResource(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  ~FileResource() override { ::close(fd_); }
  FileResource(const FileResource&) = delete;
  FileResource& operator=(const FileResource&) = delete;
  std::uint64_t size() const override { return size_; }
  std::optional<std::size_t> read_at(std::uint64_t offset, MutBytes out) override {
    if (offset >= size_ || out.empty()) return std::size_t{0};
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - offset));
    const ssize_t n = ::pread(fd_, out.data(), want, static_cast<off_t>(offset));
    // A file that shrank under us cannot deliver the size we announced.
    if (n <= 0) return std::nullopt;
    return static_cast<std::size_t>(n);
  }

 private:
  int fd_;
  std::uint64_t size_;
};

class MemoryResource final : public Resource {
 public:
  explicit MemoryResource(Bytes data) : data_(data) {}
  std::uint64_t size() const override { return data_.size(); }
  std::optional<std::size_t> read_at(std::uint64_t offset, MutBytes out) override {
    if (offset >= data_.size()) return std::size_t{0};
    const std::size_t n = std::min<std::size_t>(out.size(), data_.size() - static_cast<std::size_t>(offset));
    std::memcpy(out.data(), data_.data() + offset, n);
    return n;
  }

 private:
  Bytes data_;
};

class DirectorySite final : public Site {
 public:
  explicit DirectorySite(const fs::path& root) {
    std::error_code ec;
    root_ = fs::canonical(root, ec);
    if (ec) root_ = root;  // fails closed: nothing resolves under a missing root
  }

  Lookup find(std::string_view target) const override {
    Lookup l;
    FileLookup f = file_under(root_, target);
    l.status = f.status;
    if (f.status != LookupStatus::kFound) return l;
    l.status = LookupStatus::kNotFound;
    const int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return l;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return l;
    }
    l.status = LookupStatus::kFound;
    l.resource = std::make_unique<FileResource>(fd, static_cast<std::uint64_t>(st.st_size));
    l.content_type = content_type_for(f.path.filename().string());
    return l;
  }

  std::string description() const override { return root_.string(); }

 private:
  fs::path root_;
};

class BuiltinSite final : public Site {
 public:
  BuiltinSite() {
    for (std::size_t i = 0; i < www::kFileCount; ++i) files_.emplace(www::kFiles[i].path, &www::kFiles[i]);
  }

  Lookup find(std::string_view target) const override {
    Lookup l;
    auto segs = target_segments(target);
    if (!segs) {
      l.status = LookupStatus::kBadRequest;
      return l;
    }
    std::string key;
    for (const auto& s : *segs) key += (key.empty() ? "" : "/") + s;
    auto it = files_.find(key);
    if (it == files_.end()) return l;
    l.status = LookupStatus::kFound;
    l.resource = std::make_unique<MemoryResource>(Bytes(it->second->data, it->second->size));
    l.content_type = content_type_for(segs->back());
    return l;
  }

  std::string description() const override { return "the built-in demo site"; }

 private:
  std::map<std::string, const www::File*, std::less<>> files_;
};

}  // namespace

std::optional<std::vector<std::string>> target_segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  if (!target.starts_with('/')) return std::nullopt;
  auto decoded = percent_decode(target);
  if (!decoded || decoded->find('\0') != std::string::npos) return std::nullopt;
  std::vector<std::string> segs;
  std::string_view rest = *decoded;
  bool names_directory = false;  // the last segment is empty or "."
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    const bool last = slash == std::string_view::npos || rest.empty();
    if (seg == "..") return std::nullopt;  // never climb, whatever the served tree looks like
    if (seg.empty() || seg == ".") {
      if (last) names_directory = true;
      continue;
    }
    segs.emplace_back(seg);
    names_directory = last && slash != std::string_view::npos;  // "name/" at the end
  }
  if (names_directory || segs.empty()) segs.emplace_back("index.html");
  return segs;
}

FileLookup file_under(const fs::path& root, std::string_view target) {
  FileLookup f;
  auto segs = target_segments(target);
  if (!segs) {
    f.status = LookupStatus::kBadRequest;
    return f;
  }
  fs::path p = root;
  for (const auto& s : *segs) p /= s;
  std::error_code ec;
  fs::path real = fs::canonical(p, ec);
  if (ec || !is_within(root, real) || !fs::is_regular_file(real, ec)) {
    f.status = LookupStatus::kNotFound;
    return f;
  }
  f.status = LookupStatus::kFound;
  f.path = std::move(real);
  return f;
}

std::string_view content_type_for(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},         {".txt", "text/plain; charset=utf-8"},
      {".png", "image/png"},                 {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},               {".gif", "image/gif"},
      {".svg", "image/svg+xml"},             {".ico", "image/x-icon"},
      {".webp", "image/webp"},               {".wasm", "application/wasm"},
      {".pdf", "application/pdf"},
  };
  const auto dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    std::string ext(name.substr(dot));
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const auto& [e, type] : kTypes) {
      if (ext == e) return type;
    }
  }
  return "application/octet-stream";
}

std::unique_ptr<Site> make_directory_site(const fs::path& root) { return std::make_unique<DirectorySite>(root); }
std::unique_ptr<Site> make_builtin_site() { return std::make_unique<BuiltinSite>(); }

}  // namespace roam::apps
