#include "client_connection.h"

namespace roam::apps {

ClientConnection::ClientConnection(std::string name, endpoint::ConnectionHandle handle,
                                   std::vector<std::unique_ptr<Exchange>> exchanges, bool http3)
    : name_(std::move(name)), handle_(handle), http3_(http3) {
  slots_.reserve(exchanges.size());
  for (auto& e : exchanges) {
    Slot s;
    s.request = e->request();
    s.exchange = std::move(e);
    slots_.push_back(std::move(s));
  }
}

ClientConnection::ClientConnection(ClientConnection&&) noexcept = default;
ClientConnection& ClientConnection::operator=(ClientConnection&&) noexcept = default;
ClientConnection::~ClientConnection() = default;

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
  if (http3_) {
    // (A stream the session already finished with is no longer known to it: nothing to cancel.)
    if (session_ && s.state == State::kActive) (void)session_->cancel(s.id, h3::kRequestCancelled);
  } else if (c && s.state == State::kActive) {
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
    session_.reset();  // it refers to the connection
    fail("connection to " + name_ + " lost");
    return;
  }
  // A resumed session may send its requests in 0-RTT, before the handshake ends.
  const bool can_send = c->is_handshake_complete() || c->early_data_possible();
  if (http3_ && !session_ && can_send && !c->is_closing()) {
    // Before the connection's events are polled: the server's control stream may already be there.
    auto started = h3::Session::start(*c);
    if (!started) {
      fail(name_ + ": cannot start HTTP/3: " + std::string(started.error().reason));
      c->close(h3::kInternalError, "cannot start HTTP/3");
      return;
    }
    session_ = std::move(started).value();
  }
  while (auto ev = c->poll_event()) {
    if (session_) session_->on_connection_event(*ev);
    if (auto* closed = std::get_if<conn::ConnectionClosed>(&*ev)) on_closed(*closed);
  }
  stats_ = c->stats();
  if (finished()) return;
  if (c->is_closing()) {
    fail("connection to " + name_ + " closed");
    return;
  }
  if (!can_send) return;
  handshake_complete_ = handshake_complete_ || c->is_handshake_complete();
  if (http3_) return pump_http3(*c, now);
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

void ClientConnection::pump_http3(conn::Connection& c, Instant now) {
  session_->pump();
  while (next_to_open_ < slots_.size()) {
    Slot& s = slots_[next_to_open_];
    if (s.state != State::kWaiting) {
      ++next_to_open_;
      continue;
    }
    auto request = s.exchange->http_request();
    if (!request) {
      fail_slot(nullptr, s, "not an HTTP request", now);
      continue;
    }
    if (session_->goaway_id()) {
      fail_slot(nullptr, s, "not sent: " + name_ + " is shutting down (GOAWAY)", now);
      continue;
    }
    std::unique_ptr<h3::BodySource> body;
    if (!s.request.empty()) body = std::make_unique<h3::BytesBody>(s.request);
    auto id = session_->submit_request(*request, std::move(body));
    if (!id) break;  // the server's stream limit: more streams once it raises MAX_STREAMS
    s.id = *id;
    s.state = State::kActive;
    slot_of_stream_[id->value] = next_to_open_;
    if (!transfer_start_) transfer_start_ = now;
    ++next_to_open_;
  }
  while (auto e = session_->poll_event()) on_http3_event(*e, now);
  if (!c.is_closing()) session_->pump();
}

void ClientConnection::on_http3_event(const h3::Event& e, Instant now) {
  if (const auto* failed = std::get_if<h3::SessionFailed>(&e)) {
    std::string name(h3::error_name(failed->code));
    fail(name_ + ": HTTP/3 error: " + failed->reason + (name.empty() ? "" : " (" + name + ")"));
    return;
  }
  std::optional<StreamId> id;
  if (const auto* r = std::get_if<h3::ResponseReceived>(&e)) id = r->id;
  if (const auto* b = std::get_if<h3::BodyReadable>(&e)) id = b->id;
  if (const auto* a = std::get_if<h3::StreamAborted>(&e)) id = a->id;
  if (!id) return;
  auto it = slot_of_stream_.find(id->value);
  if (it == slot_of_stream_.end()) return;
  Slot& s = slots_[it->second];
  if (s.state != State::kActive) return;
  if (const auto* r = std::get_if<h3::ResponseReceived>(&e)) {
    if (auto why = s.exchange->on_response(r->response)) return fail_slot(nullptr, s, *why, now);
  } else if (std::holds_alternative<h3::BodyReadable>(e)) {
    read_http3_body(s, now);
  } else if (const auto* a = std::get_if<h3::StreamAborted>(&e)) {
    fail_slot(nullptr, s, s.exchange->reset_message(a->code), now);
  }
}

void ClientConnection::read_http3_body(Slot& s, Instant now) {
  for (;;) {
    auto r = session_->read_body(s.id, buf_);
    if (!r) return fail_slot(nullptr, s, "stream failed: " + std::string(r.error().reason), now);
    if (r->bytes > 0) {
      bytes_received_ += r->bytes;
      if (auto e = s.exchange->on_data(Bytes(buf_.data(), r->bytes))) return fail_slot(nullptr, s, *e, now);
    }
    if (r->fin) {
      if (auto e = s.exchange->on_fin()) return fail_slot(nullptr, s, *e, now);
      return end(s, State::kSucceeded, now);
    }
    if (r->bytes == 0) return;
  }
}

}  // namespace roam::apps
