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

bool PerfServer::serve(conn::Connection& c, StreamId id) {
  Stream& s = streams_[id.value];
  while (!s.request_done) {
    auto r = c.read(id, buf_);
    if (!r) return done(id);
    if (r->reset) return done(id);
    if (r->bytes == 0 && !r->fin) return false;
    s.request.insert(s.request.end(), buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(r->bytes));
    if (s.request.size() > 8) {
      // Not a perf request: refuse it rather than guess.
      ++refused_;
      (void)c.reset_stream(id, 0);
      (void)c.stop_sending(id, 0);
      return done(id);
    }
    if (r->fin) {
      s.request_done = true;
      ++requests_;
      if (s.request.size() != 8) {
        ++refused_;
        (void)c.reset_stream(id, 0);
        return done(id);
      }
      for (std::uint8_t b : s.request) s.to_send = s.to_send << 8 | b;
      if (s.to_send == 0) {
        if (!c.write(id, Bytes{}, true)) return false;
        return done(id);
      }
    }
  }
  while (s.to_send > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(s.to_send, buf_.size()));
    perf_fill(s.offset, MutBytes(buf_.data(), chunk));
    auto w = c.write(id, Bytes(buf_.data(), chunk), chunk == s.to_send);
    if (!w) return done(id);
    s.offset += *w;
    s.to_send -= *w;
    bytes_sent_ += *w;
    if (*w < chunk) return false;
  }
  return done(id);
}

bool EchoServer::serve(conn::Connection& c, StreamId id) {
  Stream& s = streams_[id.value];
  for (;;) {
    if (!s.pending.empty()) {
      auto w = c.write(id, s.pending, false);
      if (!w) return done(id);
      bytes_sent_ += *w;
      s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<std::ptrdiff_t>(*w));
      if (!s.pending.empty()) return false;  // the connection is full: flow control pushes back
    }
    if (s.fin_received) {
      if (!c.write(id, Bytes{}, true)) return false;
      return done(id);
    }
    auto r = c.read(id, buf_);
    if (!r || r->reset) return done(id);
    if (r->bytes == 0 && !r->fin) return false;
    s.pending.assign(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(r->bytes));
    if (r->fin) {
      s.fin_received = true;
      ++requests_;
    }
  }
}

std::vector<std::uint8_t> PerfExchange::request() const {
  std::vector<std::uint8_t> req(8);
  for (int i = 0; i < 8; ++i) req[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(bytes_ >> (56 - 8 * i));
  return req;
}

std::optional<std::string> PerfExchange::on_data(Bytes data) {
  if (received_ + data.size() > bytes_) {
    return "the server sent more than the " + std::to_string(bytes_) + " bytes asked for";
  }
  if (const std::size_t bad = perf_mismatches(received_, data)) {
    return std::to_string(bad) + " wrong bytes near offset " + std::to_string(received_);
  }
  received_ += data.size();
  return std::nullopt;
}

std::optional<std::string> PerfExchange::on_fin() {
  if (received_ != bytes_) {
    return "received " + std::to_string(received_) + " of " + std::to_string(bytes_) + " bytes";
  }
  return std::nullopt;
}

std::optional<std::string> EchoExchange::on_data(Bytes data) {
  echoed_.append(reinterpret_cast<const char*>(data.data()), data.size());
  if (echoed_.size() > text_.size()) return "the server echoed more than was sent";
  return std::nullopt;
}

std::optional<std::string> EchoExchange::on_fin() {
  if (echoed_ != text_) return "echo mismatch: sent '" + text_ + "', got '" + echoed_ + "'";
  return std::nullopt;
}

}  // namespace roam::apps
