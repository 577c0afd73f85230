#include "hq.h"

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

std::optional<fs::path> hq_file_under(const fs::path& root, std::string_view target) {
  FileLookup f = file_under(root, target);
  if (f.status != LookupStatus::kFound) return std::nullopt;
  return f.path;
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
    Lookup found = site_->find(target);
    RequestLogEntry entry{kHqAlpn, "GET", target, 200, 0};
    if (found.status == LookupStatus::kFound) {
      entry.bytes = found.resource->size();
    } else {
      entry.status = found.status == LookupStatus::kBadRequest ? 400 : 404;
    }
    if (log_) log_(c, entry);
    if (found.status != LookupStatus::kFound) return Step::kNotFound;
    s.resource = std::move(found.resource);
    return Step::kReady;
  }
}

bool HqServer::serve(conn::Connection& c, StreamId id) {
  Stream& s = streams_[id.value];
  if (!s.resource) {
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
  // The resource goes out in chunks read once each: a stream the connection cannot take more
  // from costs one write call per round, not a read.
  constexpr std::uint64_t kChunk = 64 * 1024;
  const std::uint64_t size = s.resource->size();
  for (;;) {
    if (s.chunk_sent == s.chunk.size() && s.read_offset < size) {
      s.chunk.resize(static_cast<std::size_t>(std::min(kChunk, size - s.read_offset)));
      const auto n = s.resource->read_at(s.read_offset, s.chunk);
      if (!n || *n == 0) return refuse(c, id, s, kHqServerError);  // the file shrank or cannot be read
      s.chunk.resize(*n);
      s.chunk_sent = 0;
      s.read_offset += *n;
    }
    const Bytes rest = Bytes(s.chunk).subspan(s.chunk_sent);
    const bool last = s.read_offset == size;
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
