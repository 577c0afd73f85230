#include "perf.h"

#include <algorithm>

namespace roam::apps {

void perf_fill(std::uint64_t offset, MutBytes out) {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = perf_byte(offset + i);
}

std::size_t perf_mismatches(std::uint64_t offset, Bytes buf) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < buf.size(); ++i) bad += buf[i] != perf_byte(offset + i);
  return bad;
}

void ServerApp::pump(conn::Connection& c) {
  while (auto ev = c.poll_event()) {
    if (auto* o = std::get_if<conn::StreamOpened>(&*ev)) streams_.try_emplace(o->id.value);
    if (auto* r = std::get_if<conn::StreamReadable>(&*ev)) streams_.try_emplace(r->id.value);
  }
  for (auto it = streams_.begin(); it != streams_.end();) {
    serve(c, StreamId{it->first}, it->second);
    if (it->second.fin_sent) {
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
}

void ServerApp::serve(conn::Connection& c, StreamId id, StreamState& s) {
  // Read whatever arrived.
  while (!s.request_done) {
    auto r = c.read(id, buf_);
    if (!r || (r->bytes == 0 && !r->fin)) break;
    if (alpn_ == "perf") {
      s.request.insert(s.request.end(), buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(r->bytes));
    } else {
      s.echo_pending.insert(s.echo_pending.end(), buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(r->bytes));
    }
    if (r->fin || r->reset) {
      s.request_done = true;
      ++requests_;
      if (alpn_ == "perf") {
        std::uint64_t n = 0;
        for (std::size_t i = 0; i < std::min<std::size_t>(8, s.request.size()); ++i) n = n << 8 | s.request[i];
        s.to_send = s.request.size() == 8 ? n : 0;
      }
    }
    if (alpn_ != "perf") break;  // echo: write back before reading more
  }
  // Write as much as the connection takes.
  if (alpn_ == "perf") {
    if (!s.request_done) return;
    while (s.to_send > 0) {
      const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(s.to_send, buf_.size()));
      perf_fill(s.offset, MutBytes(buf_.data(), chunk));
      auto w = c.write(id, Bytes(buf_.data(), chunk), chunk == s.to_send);
      if (!w || *w == 0) return;
      s.offset += *w;
      s.to_send -= *w;
      bytes_sent_ += *w;
      if (*w < chunk) return;
    }
    if (s.to_send == 0 && !s.fin_sent) {
      if (s.offset == 0) (void)c.write(id, Bytes{}, true);
      s.fin_sent = true;
    }
  } else {
    if (!s.echo_pending.empty()) {
      auto w = c.write(id, s.echo_pending, false);
      if (w && *w > 0) {
        bytes_sent_ += *w;
        s.echo_pending.erase(s.echo_pending.begin(), s.echo_pending.begin() + static_cast<std::ptrdiff_t>(*w));
      }
    }
    if (s.request_done && s.echo_pending.empty() && !s.fin_sent) {
      if (c.write(id, Bytes{}, true)) s.fin_sent = true;
    }
  }
}

}  // namespace roam::apps
