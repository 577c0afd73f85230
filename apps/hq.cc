#include "hq.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace roam::apps {

namespace fs = std::filesystem;

std::string hq_request_line(std::string_view target) { return "GET " + std::string(target) + "\r\n"; }

HqParse parse_hq_request(std::string_view data, bool fin, std::string& target) {
  std::string_view line;
  const auto lf = data.find('\n');
  if (lf != std::string_view::npos) {
    line = data.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  } else if (fin) {
    line = data;
  } else {
    return data.size() > kHqMaxRequest ? HqParse::kBad : HqParse::kIncomplete;
  }
  if (line.size() > kHqMaxRequest || !line.starts_with("GET ")) return HqParse::kBad;
  line.remove_prefix(4);
  while (line.starts_with(' ')) line.remove_prefix(1);
  line = line.substr(0, line.find(' '));
  if (!line.starts_with('/')) return HqParse::kBad;
  target = std::string(line);
  return HqParse::kOk;
}

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

}  // namespace

std::optional<fs::path> hq_file_under(const fs::path& root, std::string_view target) {
  target = target.substr(0, target.find('?'));
  if (!target.starts_with('/')) return std::nullopt;
  auto decoded = percent_decode(target);
  if (!decoded || decoded->find('\0') != std::string::npos) return std::nullopt;
  fs::path p = root;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") return std::nullopt;
    p /= seg;
  }
  std::error_code ec;
  fs::path real = fs::canonical(p, ec);
  if (ec || !is_within(root, real) || !fs::is_regular_file(real, ec)) return std::nullopt;
  return real;
}

HqServer::Stream::Stream(Stream&& o) noexcept
    : request(std::move(o.request)),
      request_fin(o.request_fin),
      fd(o.fd),
      size(o.size),
      read_offset(o.read_offset),
      chunk(std::move(o.chunk)),
      chunk_sent(o.chunk_sent) {
  o.fd = -1;
}

HqServer::Stream::~Stream() {
  if (fd >= 0) ::close(fd);
}

HqServer::HqServer(const fs::path& root) {
  std::error_code ec;
  root_ = fs::canonical(root, ec);
  if (ec) root_ = root;  // serving fails closed: hq_file_under finds nothing under a missing root
}

bool HqServer::refuse(conn::Connection& c, StreamId id, const Stream& s, std::uint64_t code) {
  ++refused_;
  (void)c.reset_stream(id, code);
  if (!s.request_fin) (void)c.stop_sending(id, code);
  return done(id);
}

HqServer::Step HqServer::read_request(conn::Connection& c, StreamId id, Stream& s) {
  for (;;) {
    auto r = c.read(id, buf_);
    if (!r) return Step::kGone;
    if (r->reset) {
      s.request_fin = true;  // nothing more will come: no STOP_SENDING needed
      return Step::kAborted;
    }
    s.request.append(reinterpret_cast<const char*>(buf_.data()), r->bytes);
    s.request_fin = r->fin;
    std::string target;
    const HqParse p = parse_hq_request(s.request, r->fin, target);
    if (p == HqParse::kIncomplete) {
      if (r->bytes == 0) return Step::kWait;
      continue;
    }
    ++requests_;
    if (p == HqParse::kBad) return Step::kBadRequest;
    const auto file = hq_file_under(root_, target);
    if (!file) return Step::kNotFound;
    s.fd = ::open(file->c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (s.fd < 0 || ::fstat(s.fd, &st) != 0 || !S_ISREG(st.st_mode)) return Step::kNotFound;
    s.size = static_cast<std::uint64_t>(st.st_size);
    return Step::kReady;
  }
}

bool HqServer::serve(conn::Connection& c, StreamId id) {
  Stream& s = streams_[id.value];
  if (s.fd < 0) {
    switch (read_request(c, id, s)) {
      case Step::kWait:
        return false;
      case Step::kReady:
        break;
      case Step::kGone:
        return done(id);
      case Step::kAborted:
        (void)c.reset_stream(id, kHqBadRequest);
        return done(id);
      case Step::kBadRequest:
        return refuse(c, id, s, kHqBadRequest);
      case Step::kNotFound:
        return refuse(c, id, s, kHqNotFound);
    }
  }
  return send_file(c, id, s);
}

bool HqServer::send_file(conn::Connection& c, StreamId id, Stream& s) {
  // The file goes out in chunks read once each: a stream the connection cannot take more from
  // costs one write call per round, not a read.
  constexpr std::uint64_t kChunk = 64 * 1024;
  for (;;) {
    if (s.chunk_sent == s.chunk.size() && s.read_offset < s.size) {
      s.chunk.resize(static_cast<std::size_t>(std::min(kChunk, s.size - s.read_offset)));
      const ssize_t n = ::pread(s.fd, s.chunk.data(), s.chunk.size(), static_cast<off_t>(s.read_offset));
      if (n <= 0) return refuse(c, id, s, kHqServerError);  // the file shrank or cannot be read
      s.chunk.resize(static_cast<std::size_t>(n));
      s.chunk_sent = 0;
      s.read_offset += static_cast<std::uint64_t>(n);
    }
    const Bytes rest = Bytes(s.chunk).subspan(s.chunk_sent);
    const bool last = s.read_offset == s.size;
    auto w = c.write(id, rest, last);
    if (!w) return done(id);  // the stream is gone (the peer stopped it)
    s.chunk_sent += *w;
    bytes_sent_ += *w;
    if (*w < rest.size()) return false;
    if (last) break;
  }
  if (!s.request_fin) (void)c.stop_sending(id, 0);
  return done(id);
}

std::vector<std::uint8_t> HqDownload::request() const {
  const std::string line = hq_request_line(url_.path);
  return {line.begin(), line.end()};
}

std::optional<std::string> HqDownload::on_data(Bytes data) {
  received_ += data.size();
  return out_->write(data);
}

std::optional<std::string> HqDownload::on_fin() { return out_->finish(); }

std::string HqDownload::warning() const {
  if (received_ > 0) return {};
  return label() + ": empty response (HTTP/0.9 has no status: an empty file, or a server that answers a missing "
                   "file with nothing)";
}

std::string HqDownload::reset_message(std::uint64_t code) const {
  switch (code) {
    case kHqNotFound:
      return "not found (the server reset the stream, code " + std::to_string(code) + ")";
    case kHqBadRequest:
      return "bad request (the server reset the stream, code " + std::to_string(code) + ")";
    default:
      return "the server reset the stream (code " + std::to_string(code) + ")";
  }
}

}  // namespace roam::apps
