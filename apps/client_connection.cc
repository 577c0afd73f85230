#include "client_connection.h"

namespace roam::apps {

ClientConnection::ClientConnection(std::string name, endpoint::ConnectionHandle handle,
                                   std::vector<std::unique_ptr<Exchange>> exchanges)
    : name_(std::move(name)), handle_(handle) {
  slots_.reserve(exchanges.size());
  for (auto& e : exchanges) {
    Slot s;
    s.request = e->request();
    s.exchange = std::move(e);
    slots_.push_back(std::move(s));
  }
}

std::optional<std::uint64_t> ClientConnection::expected_bytes() const {
  std::uint64_t total = 0;
  for (const auto& s : slots_) {
    auto e = s.exchange->expected_bytes();
    if (!e) return std::nullopt;
    total += *e;
  }
  return total;
}

std::vector<std::string> ClientConnection::result_lines() const {
  std::vector<std::string> out;
  for (const auto& s : slots_) {
    if (s.state != State::kSucceeded) continue;
    if (auto line = s.exchange->result_line(); !line.empty()) out.push_back(std::move(line));
  }
  return out;
}

std::vector<std::string> ClientConnection::warnings() const {
  std::vector<std::string> out;
  for (const auto& s : slots_) {
    if (s.state != State::kSucceeded) continue;
    if (auto w = s.exchange->warning(); !w.empty()) out.push_back(std::move(w));
  }
  return out;
}

void ClientConnection::end(Slot& s, State state, Instant now) {
  s.state = state;
  ++finished_count_;
  if (finished()) transfer_end_ = now;
}

void ClientConnection::fail_slot(conn::Connection* c, Slot& s, const std::string& why, Instant now) {
  if (c && s.state == State::kActive) {
    (void)c->stop_sending(s.id, 0);
    if (!s.fin_sent) (void)c->reset_stream(s.id, 0);
  }
  s.exchange->on_failure();
  errors_.push_back(s.exchange->label() + ": " + why);
  end(s, State::kFailed, now);
}

void ClientConnection::fail(const std::string& message) {
  bool any = false;
  for (auto& s : slots_) {
    if (s.state == State::kSucceeded || s.state == State::kFailed) continue;
    s.exchange->on_failure();
    s.state = State::kFailed;
    ++finished_count_;
    any = true;
  }
  if (any) errors_.push_back(message);
}

void ClientConnection::on_closed(const conn::ConnectionClosed& closed) {
  if (finished()) return;
  std::string why;
  if (closed.idle_timeout) {
    why = handshake_complete_ ? "connection to " + name_ + " timed out" : "no answer from " + name_ + " (timed out)";
  } else if (closed.stateless_reset) {
    why = name_ + ": the server reset the connection (stateless reset)";
  } else {
    why = name_ + (closed.by_peer ? ": the server closed the connection" : ": connection failed");
    if (!closed.reason.empty()) why += ": " + closed.reason;
    char code[32];
    std::snprintf(code, sizeof code, " (%s error 0x%llx)", closed.application ? "application" : "transport",
                  static_cast<unsigned long long>(closed.error_code));
    why += code;
  }
  fail(why);
}

void ClientConnection::pump(conn::Connection* c, Instant now) {
  if (finished()) return;
  if (!c) {
    fail("connection to " + name_ + " lost");
    return;
  }
  while (auto ev = c->poll_event()) {
    if (auto* closed = std::get_if<conn::ConnectionClosed>(&*ev)) on_closed(*closed);
  }
  stats_ = c->stats();
  if (finished()) return;
  if (c->is_closing()) {
    fail("connection to " + name_ + " closed");
    return;
  }
  if (!c->is_handshake_complete()) return;
  handshake_complete_ = true;
  while (next_to_open_ < slots_.size()) {
    Slot& s = slots_[next_to_open_];
    if (s.state != State::kWaiting) {
      ++next_to_open_;
      continue;
    }
    auto id = c->open_stream(true);
    if (!id) break;  // the server's stream limit: more streams once it raises MAX_STREAMS
    s.id = *id;
    s.state = State::kActive;
    if (!transfer_start_) transfer_start_ = now;
    ++next_to_open_;
  }
  for (auto& s : slots_) {
    if (s.state == State::kActive) drive(*c, s, now);
  }
}

void ClientConnection::drive(conn::Connection& c, Slot& s, Instant now) {
  while (!s.fin_sent) {
    const Bytes rest = Bytes(s.request).subspan(s.request_sent);
    auto w = c.write(s.id, rest, true);
    if (!w) return fail_slot(&c, s, "cannot send the request: " + std::string(w.error().reason), now);
    s.request_sent += *w;
    if (s.request_sent == s.request.size()) {
      s.fin_sent = true;
    } else if (*w == 0) {
      break;
    }
  }
  for (;;) {
    auto r = c.read(s.id, buf_);
    if (!r) return fail_slot(&c, s, "stream failed: " + std::string(r.error().reason), now);
    if (r->reset) return fail_slot(&c, s, s.exchange->reset_message(r->reset_code), now);
    if (r->bytes > 0) {
      bytes_received_ += r->bytes;
      if (auto e = s.exchange->on_data(Bytes(buf_.data(), r->bytes))) return fail_slot(&c, s, *e, now);
    }
    if (r->fin) {
      if (auto e = s.exchange->on_fin()) return fail_slot(nullptr, s, *e, now);
      return end(s, State::kSucceeded, now);
    }
    if (r->bytes == 0) return;
  }
}

}  // namespace roam::apps
