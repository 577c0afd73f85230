#include "netsim_app.h"

#include <algorithm>

namespace roam::sim {

namespace {
constexpr std::size_t kChunk = 64 * 1024;

std::uint64_t word(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed * 0xd1342543de82ef95ull + index * 0x9e3779b97f4a7c15ull + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}

std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

bool has_data(const Result<conn::ReadResult>& r) { return r.ok() && (r->bytes > 0 || r->fin || r->reset); }
}  // namespace

std::uint8_t pattern_byte(std::uint64_t seed, std::uint64_t offset) {
  return static_cast<std::uint8_t>(word(seed, offset / 8) >> (8 * (offset % 8)));
}

void pattern_fill(std::uint64_t seed, std::uint64_t offset, MutBytes out) {
  std::size_t i = 0;
  while (i < out.size() && (offset + i) % 8 != 0) {
    out[i] = pattern_byte(seed, offset + i);
    ++i;
  }
  for (; i + 8 <= out.size(); i += 8) {
    std::uint64_t w = word(seed, (offset + i) / 8);
    for (std::size_t k = 0; k < 8; ++k, w >>= 8) out[i + k] = static_cast<std::uint8_t>(w);
  }
  for (; i < out.size(); ++i) out[i] = pattern_byte(seed, offset + i);
}

std::uint64_t pattern_checksum(std::uint64_t seed, std::uint64_t n) {
  Fnv1a f;
  std::vector<std::uint8_t> buf(kChunk);
  for (std::uint64_t off = 0; off < n; off += kChunk) {
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, n - off));
    pattern_fill(seed, off, MutBytes(buf.data(), len));
    f.update(Bytes(buf.data(), len));
  }
  return f.value();
}

bool PatternSource::pump(conn::Connection& c, StreamId id) {
  while (!fin_sent_) {
    const std::uint64_t chunk_end = chunk_offset_ + chunk_.size();
    if (offset_ >= chunk_end && offset_ < total_) {
      chunk_offset_ = offset_;
      chunk_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, total_ - offset_)));
      pattern_fill(seed_, chunk_offset_, chunk_);
    }
    const std::size_t pos = static_cast<std::size_t>(offset_ - chunk_offset_);
    const Bytes rest = offset_ < total_ ? Bytes(chunk_).subspan(pos) : Bytes{};
    const bool last = offset_ + rest.size() == total_;
    auto w = c.write(id, rest, last);
    if (!w) return false;
    offset_ += *w;
    if (*w < rest.size()) {
      ++short_writes_;
      return true;
    }
    if (last) fin_sent_ = true;
  }
  return true;
}

void PatternSink::consume(Bytes b) {
  for (std::size_t i = 0; i < b.size(); ++i) mismatches_ += b[i] != pattern_byte(seed_, offset_ + i);
  fnv_.update(b);
  offset_ += b.size();
}

bool is_path_event(const conn::Event& e) {
  return std::holds_alternative<conn::PathValidated>(e) || std::holds_alternative<conn::PathFailed>(e) ||
         std::holds_alternative<conn::PathChanged>(e);
}

// ---------------------------------------------------------------------------------------------
// Server

void ServerApp::pump(conn::Connection& c, Instant now, const EventHook* hook) {
  while (auto ev = c.poll_event()) {
    if (hook && *hook) (*hook)(c, *ev, now);
    if (log_path_events_ && is_path_event(*ev)) path_events_.push_back(PathEventRecord{now, *ev});
    if (auto* o = std::get_if<conn::StreamOpened>(&*ev)) streams_.try_emplace(o->id.value);
    if (auto* cl = std::get_if<conn::ConnectionClosed>(&*ev)) closed_ = *cl;
  }
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (serve(c, StreamId{it->first}, it->second)) {
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
}

bool ServerApp::serve(conn::Connection& c, StreamId id, StreamState& s) {
  // Read: the request header, then upload or echo payload.
  while (!s.peer_fin) {
    if (s.op == Op::kEcho && s.request_done && s.echo_pending.size() >= kChunk) break;
    auto r = c.read(id, buf_);
    if (!has_data(r)) break;
    if (r->reset) {
      s.peer_fin = true;
      break;
    }
    Bytes data(buf_.data(), r->bytes);
    if (!s.request_done) {
      const std::size_t take = std::min(data.size(), kRequestSize - s.request.size());
      s.request.insert(s.request.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
      data = data.subspan(take);
      if (s.request.size() == kRequestSize) {
        s.request_done = true;
        ++stats_.requests;
        s.op = static_cast<Op>(s.request[0]);
        s.length = get_u64(&s.request[1]);
        s.seed = get_u64(&s.request[9]);
        if (s.op == Op::kDownload) {
          s.source.emplace(s.seed, s.length);
        } else if (s.op == Op::kUpload) {
          s.sink.emplace(s.seed);
        } else if (s.op != Op::kEcho) {
          ++stats_.bad_requests;
          (void)c.reset_stream(id, 1);
          return true;
        }
      }
    }
    stats_.bytes_received += data.size();
    if (s.sink) s.sink->consume(data);
    if (s.op == Op::kEcho) s.echo_pending.insert(s.echo_pending.end(), data.begin(), data.end());
    if (r->fin) s.peer_fin = true;
  }
  if (!s.request_done) {
    if (s.peer_fin) {
      ++stats_.bad_requests;
      return true;
    }
    return false;
  }
  // Write.
  if (s.source) {
    const std::uint64_t before = s.source->sent();
    if (!s.source->pump(c, id)) return true;
    stats_.bytes_sent += s.source->sent() - before;
    return s.source->done();
  }
  if (s.sink) {
    if (!s.peer_fin) return false;
    if (s.reply.empty() && !s.fin_sent) {
      stats_.upload_mismatches += s.sink->mismatches();
      s.reply.resize(16);
      put_u64(s.reply.data(), s.sink->received());
      put_u64(s.reply.data() + 8, s.sink->checksum());
    }
  } else {
    s.reply.swap(s.echo_pending);
    s.echo_pending.clear();
  }
  if (!s.reply.empty()) {
    auto w = c.write(id, s.reply, false);
    if (!w) return true;
    stats_.bytes_sent += *w;
    s.reply.erase(s.reply.begin(), s.reply.begin() + static_cast<std::ptrdiff_t>(*w));
    if (s.op == Op::kEcho) s.echo_pending.swap(s.reply);  // keep the rest in order
  }
  if (s.peer_fin && s.reply.empty() && s.echo_pending.empty() && !s.fin_sent) {
    if (!c.write(id, Bytes{}, true)) return true;
    s.fin_sent = true;
  }
  return s.fin_sent;
}

void ServerApps::pump(endpoint::Endpoint& ep, Instant now) {
  while (auto h = ep.accept()) apps_.try_emplace(*h).first->second.set_path_event_log(log_path_events_);
  for (auto& [h, app] : apps_) {
    if (auto* c = ep.connection(h)) app.pump(*c, now, &hook_);
  }
}

ServerApp* ServerApps::app(endpoint::ConnectionHandle h) {
  auto it = apps_.find(h);
  return it == apps_.end() ? nullptr : &it->second;
}

ServerAppStats ServerApps::total() const {
  ServerAppStats t;
  for (const auto& [h, a] : apps_) {
    t.requests += a.stats().requests;
    t.bad_requests += a.stats().bad_requests;
    t.bytes_sent += a.stats().bytes_sent;
    t.bytes_received += a.stats().bytes_received;
    t.upload_mismatches += a.stats().upload_mismatches;
  }
  return t;
}

std::size_t ServerApps::closed_count() const {
  std::size_t n = 0;
  for (const auto& [h, a] : apps_) n += a.closed();
  return n;
}

const std::optional<conn::ConnectionClosed>* ServerApps::first_close() const {
  for (const auto& [h, a] : apps_) {
    if (a.closed()) return &a.close_event();
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Client

std::size_t ClientApp::add(Op op, std::uint64_t length, std::uint64_t seed, Instant now) {
  Transfer t;
  t.op = op;
  t.length = length;
  t.seed = seed;
  t.queued_at = now;
  t.expected_checksum = pattern_checksum(seed, length);
  transfers_.push_back(t);
  pending_.push_back(transfers_.size() - 1);
  return transfers_.size() - 1;
}

bool ClientApp::all_ok() const {
  return std::all_of(transfers_.begin(), transfers_.end(), [](const Transfer& t) { return t.ok(); });
}

void ClientApp::pump(conn::Connection& c, Instant now) {
  while (auto ev = c.poll_event()) {
    if (hook_) hook_(c, *ev, now);
    if (log_path_events_ && is_path_event(*ev)) path_events_.push_back(PathEventRecord{now, *ev});
    if (std::holds_alternative<conn::HandshakeCompleted>(*ev)) handshake_completed_ = true;
    if (std::holds_alternative<conn::StreamWritable>(*ev)) ++writable_events_;
    if (auto* cl = std::get_if<conn::ConnectionClosed>(&*ev)) closed_ = *cl;
  }
  if (closed_ || !c.is_handshake_complete()) return;
  while (!pending_.empty()) {
    auto id = c.open_stream(true);
    if (!id) {
      ++stream_limit_hits_;
      break;
    }
    const std::size_t index = pending_.front();
    pending_.pop_front();
    Transfer& t = transfers_[index];
    t.stream = *id;
    t.opened_at = now;
    Active a;
    a.index = index;
    a.header.resize(kRequestSize);
    a.header[0] = static_cast<std::uint8_t>(t.op);
    put_u64(&a.header[1], t.length);
    put_u64(&a.header[9], t.seed);
    if (t.op != Op::kDownload) a.source.emplace(t.seed, t.length);
    if (t.op != Op::kUpload) a.sink.emplace(t.seed);
    active_.emplace(id->value, std::move(a));
  }
  const std::uint64_t before = bytes_delivered_;
  for (auto it = active_.begin(); it != active_.end();) {
    if (serve(c, it->second, now)) {
      ++completed_;
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  if (track_progress_ && bytes_delivered_ != before) progress_.push_back(Progress{now, bytes_delivered_});
}

bool ClientApp::serve(conn::Connection& c, Active& a, Instant now) {
  Transfer& t = transfers_[a.index];
  const StreamId id = *t.stream;
  if (a.header_sent < a.header.size()) {
    const bool fin = t.op == Op::kDownload || t.length == 0;
    auto w = c.write(id, Bytes(a.header).subspan(a.header_sent), fin);
    if (!w) return false;
    a.header_sent += *w;
    if (a.header_sent < a.header.size()) {
      ++short_writes_;
      return false;
    }
    if (a.source && t.length == 0) a.source.reset();
  }
  if (a.source && !a.source->done()) {
    const std::uint64_t before = a.source->short_writes();
    (void)a.source->pump(c, id);
    short_writes_ += a.source->short_writes() - before;
    t.sent = a.source->sent();
  }
  for (;;) {
    auto r = c.read(id, buf_);
    if (!has_data(r)) break;
    if (r->reset) {
      t.done = true;  // not ok(): the server refused
      t.finished_at = now;
      return true;
    }
    const Bytes data(buf_.data(), r->bytes);
    if (a.sink) {
      a.sink->consume(data);
      bytes_delivered_ += data.size();
    } else {
      a.reply.insert(a.reply.end(), data.begin(), data.end());
    }
    if (r->fin) {
      t.done = true;
      t.finished_at = now;
      if (a.sink) {
        t.received = a.sink->received();
        t.checksum = a.sink->checksum();
        t.mismatches = a.sink->mismatches();
      } else if (a.reply.size() == 16) {
        t.received = get_u64(a.reply.data());
        t.checksum = get_u64(a.reply.data() + 8);
      } else {
        t.mismatches = 1;  // malformed report
      }
      return true;
    }
  }
  return false;
}

}  // namespace roam::sim
