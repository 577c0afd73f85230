#include "h3/session.h"

#include <nghttp3/nghttp3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace roam::h3 {

namespace {

// Body bytes pulled from a BodySource per nghttp3 read_data call.
constexpr std::size_t kBodyChunk = 32 * 1024;
// Client-initiated bidirectional streams the server's nghttp3 accepts IDs of (it checks the IDs in
// PRIORITY_UPDATE frames against this). The connection enforces the real limit (MAX_STREAMS).
constexpr std::uint64_t kMaxClientStreams = 1ull << 60;

bool is_uni(std::uint64_t id) { return (id & 2) != 0; }
bool is_client_initiated(std::uint64_t id) { return (id & 1) == 0; }

std::string_view view(nghttp3_rcbuf* b) {
  const nghttp3_vec v = nghttp3_rcbuf_get_buf(b);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

nghttp3_nv make_nv(std::string_view name, std::string_view value) {
  nghttp3_nv nv{};
  nv.name = reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data()));
  nv.namelen = name.size();
  nv.value = reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data()));
  nv.valuelen = value.size();
  nv.flags = NGHTTP3_NV_FLAG_NONE;
  return nv;
}

}  // namespace

struct Session::Stream {
  explicit Stream(std::uint64_t i) : id(i) {}
  std::uint64_t id;

  // Receiving. The header section being received:
  Request request;
  int status = 0;
  Fields fields;
  bool status_valid = true;
  // The body, as the application will read it.
  std::vector<std::uint8_t> body;
  std::size_t body_pos = 0;
  // Read from the connection but neither consumed by nghttp3 nor delivered as body yet.
  std::int64_t held = 0;
  bool recv_done = false;   // FIN read, reset by the peer, or we sent STOP_SENDING
  bool ended = false;       // nghttp3 saw the whole message
  bool announced = false;   // RequestReceived / ResponseReceived emitted
  bool aborted = false;     // StreamAborted emitted
  bool app_saw_fin = false;
  bool cancelled = false;

  // Sending.
  bool submitted = false;   // request or response submitted
  std::unique_ptr<BodySource> source;
  std::deque<std::vector<std::uint8_t>> chunks;  // handed to nghttp3, not acknowledged yet
  std::uint64_t acked_in_front = 0;
  bool send_done = false;   // FIN written, or reset

  bool h3_closed = false;   // nghttp3_conn_close_stream called

  std::size_t unread() const { return body.size() - body_pos; }
};

// nghttp3 calls back into the session through these.
struct Session::Callbacks {
  static Session& self(void* user) { return *static_cast<Session*>(user); }

  static int acked_stream_data(nghttp3_conn*, std::int64_t stream_id, std::uint64_t datalen, void* user, void*) {
    Stream* st = self(user).find(static_cast<std::uint64_t>(stream_id));
    if (!st) return 0;
    st->acked_in_front += datalen;
    while (!st->chunks.empty() && st->acked_in_front >= st->chunks.front().size()) {
      st->acked_in_front -= st->chunks.front().size();
      st->chunks.pop_front();
    }
    return 0;
  }

  static int stream_close(nghttp3_conn*, std::int64_t, std::uint64_t, void*, void*) { return 0; }

  static int recv_data(nghttp3_conn*, std::int64_t stream_id, const std::uint8_t* data, std::size_t datalen,
                       void* user, void*) {
    Session& s = self(user);
    Stream* st = s.find(static_cast<std::uint64_t>(stream_id));
    if (!st) return 0;
    st->held -= static_cast<std::int64_t>(datalen);
    if (st->cancelled || datalen == 0) return 0;
    const bool was_empty = st->unread() == 0;
    if (st->body_pos > 0 && st->body_pos >= st->body.size() / 2) {
      st->body.erase(st->body.begin(), st->body.begin() + static_cast<std::ptrdiff_t>(st->body_pos));
      st->body_pos = 0;
    }
    st->body.insert(st->body.end(), data, data + datalen);
    if (was_empty) s.push(BodyReadable{StreamId{st->id}});
    return 0;
  }

  static int deferred_consume(nghttp3_conn*, std::int64_t stream_id, std::size_t consumed, void* user, void*) {
    Session& s = self(user);
    if (Stream* st = s.find(static_cast<std::uint64_t>(stream_id))) {
      st->held -= static_cast<std::int64_t>(consumed);
      // It may have stopped reading for what nghttp3 held back (QPACK-blocked): read it again.
      if (!st->recv_done) s.readable_.insert(st->id);
    }
    return 0;
  }

  static int begin_headers(nghttp3_conn*, std::int64_t stream_id, void* user, void*) {
    if (Stream* st = self(user).find(static_cast<std::uint64_t>(stream_id))) {
      st->request = Request{};
      st->request.method.clear();
      st->request.scheme.clear();
      st->request.path.clear();
      st->status = 0;
      st->status_valid = true;
      st->fields.clear();
    }
    return 0;
  }

  static int recv_header(nghttp3_conn*, std::int64_t stream_id, std::int32_t, nghttp3_rcbuf* name,
                         nghttp3_rcbuf* value, std::uint8_t, void* user, void*) {
    Stream* st = self(user).find(static_cast<std::uint64_t>(stream_id));
    if (!st) return 0;
    const std::string_view n = view(name), v = view(value);
    if (n == ":method") {
      st->request.method = v;
    } else if (n == ":scheme") {
      st->request.scheme = v;
    } else if (n == ":authority") {
      st->request.authority = v;
    } else if (n == ":path") {
      st->request.path = v;
    } else if (n == ":status") {
      // nghttp3 checks the form of :status; parse it without trusting that.
      int code = 0;
      bool ok = v.size() == 3;
      for (char c : v) {
        ok = ok && c >= '0' && c <= '9';
        code = code * 10 + (c - '0');
      }
      st->status = ok ? code : 0;
      st->status_valid = ok;
    } else if (!n.starts_with(':')) {
      st->fields.push_back({std::string(n), std::string(v)});
    }
    return 0;
  }

  static int end_headers(nghttp3_conn*, std::int64_t stream_id, int, void* user, void*) {
    Session& s = self(user);
    Stream* st = s.find(static_cast<std::uint64_t>(stream_id));
    if (!st || st->cancelled) return 0;
    if (s.server_) {
      if (st->announced) return 0;
      st->announced = true;
      st->request.fields = std::move(st->fields);
      st->fields.clear();
      s.push(RequestReceived{StreamId{st->id}, std::move(st->request)});
      st->request = Request{};
      return 0;
    }
    if (!st->status_valid) {
      s.pending_cancel_.push_back({st->id, kMessageError});
      return 0;
    }
    if (st->status < 200) {  // informational (1xx): the final response follows
      st->fields.clear();
      return 0;
    }
    if (st->announced) return 0;
    st->announced = true;
    s.push(ResponseReceived{StreamId{st->id}, Response{st->status, std::move(st->fields)}});
    st->fields.clear();
    return 0;
  }

  static int end_stream(nghttp3_conn*, std::int64_t stream_id, void* user, void*) {
    Session& s = self(user);
    Stream* st = s.find(static_cast<std::uint64_t>(stream_id));
    if (!st || st->cancelled) return 0;
    st->ended = true;
    s.push(BodyReadable{StreamId{st->id}});
    return 0;
  }

  // nghttp3 wants to abort reading (an unknown unidirectional stream type, a rejected request).
  static int stop_sending(nghttp3_conn*, std::int64_t stream_id, std::uint64_t code, void* user, void*) {
    Session& s = self(user);
    const auto id = static_cast<std::uint64_t>(stream_id);
    (void)s.conn_.stop_sending(StreamId{id}, code);
    if (Stream* st = s.find(id)) {
      st->recv_done = true;
      s.touched_.insert(id);
    } else if (s.peer_uni_.erase(id) > 0) {
      s.finished_.insert(id);
    }
    return 0;
  }

  // nghttp3 wants to abort sending (a rejected request).
  static int reset_stream(nghttp3_conn*, std::int64_t stream_id, std::uint64_t code, void* user, void*) {
    Session& s = self(user);
    const auto id = static_cast<std::uint64_t>(stream_id);
    (void)s.conn_.reset_stream(StreamId{id}, code);
    if (Stream* st = s.find(id)) {
      st->send_done = true;
      st->source.reset();
      s.touched_.insert(id);
    }
    return 0;
  }

  static int shutdown(nghttp3_conn*, std::int64_t id, void* user) {
    Session& s = self(user);
    const auto goaway = static_cast<std::uint64_t>(id);
    s.goaway_id_ = goaway;
    s.push(GoawayReceived{goaway});
    if (!s.server_) {
      // RFC 9114 5.2: requests on streams >= the ID were not and will not be processed.
      for (auto& [sid, st] : s.streams_) {
        if (sid >= goaway && !st->aborted && !st->app_saw_fin) s.pending_cancel_.push_back({sid, kRequestRejected});
      }
    }
    return 0;
  }

  static nghttp3_ssize read_data(nghttp3_conn*, std::int64_t stream_id, nghttp3_vec* vec, std::size_t veccnt,
                                 std::uint32_t* pflags, void* user, void*) {
    Session& s = self(user);
    Stream* st = s.find(static_cast<std::uint64_t>(stream_id));
    if (!st || !st->source) {
      *pflags |= NGHTTP3_DATA_FLAG_EOF;
      return 0;
    }
    if (veccnt == 0) return 0;
    std::vector<std::uint8_t> chunk(kBodyChunk);
    bool eof = false;
    auto n = st->source->read(chunk, eof);
    if (!n) {
      // The body cannot be produced: the stream is reset once nghttp3 returns.
      st->source.reset();
      s.pending_cancel_.push_back({st->id, kInternalError});
      return NGHTTP3_ERR_WOULDBLOCK;
    }
    if (eof) {
      *pflags |= NGHTTP3_DATA_FLAG_EOF;
      st->source.reset();
    }
    if (*n == 0) return eof ? 0 : NGHTTP3_ERR_WOULDBLOCK;
    chunk.resize(std::min(*n, chunk.size()));
    st->chunks.push_back(std::move(chunk));
    vec[0].base = st->chunks.back().data();
    vec[0].len = st->chunks.back().size();
    return 1;
  }
};

void Session::Nghttp3Deleter::operator()(nghttp3_conn* c) const { nghttp3_conn_del(c); }

Session::Session(conn::Connection& conn, const SessionConfig& config)
    : conn_(conn), config_(config), server_(conn.side() == conn::Side::kServer) {}

Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::start(conn::Connection& conn, const SessionConfig& config) {
  if (!conn.is_handshake_complete() && !conn.early_data_possible()) {
    return Error{TransportError::kInternalError, "HTTP/3 before the handshake"};
  }
  std::unique_ptr<Session> s(new Session(conn, config));
  if (auto st = s->init(); !st) return st.error();
  return s;
}

Status Session::init() {
  nghttp3_callbacks cb{};
  cb.acked_stream_data = &Callbacks::acked_stream_data;
  cb.stream_close = &Callbacks::stream_close;
  cb.recv_data = &Callbacks::recv_data;
  cb.deferred_consume = &Callbacks::deferred_consume;
  cb.begin_headers = &Callbacks::begin_headers;
  cb.recv_header = &Callbacks::recv_header;
  cb.end_headers = &Callbacks::end_headers;
  // Trailers are accepted (nghttp3 checks them) and not passed on.
  cb.stop_sending = &Callbacks::stop_sending;
  cb.end_stream = &Callbacks::end_stream;
  cb.reset_stream = &Callbacks::reset_stream;
  cb.shutdown = &Callbacks::shutdown;
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.max_field_section_size = config_.max_field_section_size;
  settings.qpack_max_dtable_capacity = config_.qpack_max_dtable_capacity;
  settings.qpack_blocked_streams = config_.qpack_blocked_streams;
  nghttp3_conn* raw = nullptr;
  const int rv = server_ ? nghttp3_conn_server_new(&raw, &cb, &settings, nullptr, this)
                         : nghttp3_conn_client_new(&raw, &cb, &settings, nullptr, this);
  if (rv != 0) return Error{TransportError::kInternalError, "nghttp3_conn_new failed"};
  h3_.reset(raw);
  if (server_) nghttp3_conn_set_max_client_streams_bidi(raw, kMaxClientStreams);

  // RFC 9114 6.2: the control stream and, for QPACK, an encoder and a decoder stream.
  auto control = conn_.open_stream(false);
  auto enc = control ? conn_.open_stream(false) : control;
  auto dec = enc ? conn_.open_stream(false) : enc;
  if (!dec) return Error{TransportError::kStreamLimitError, "the peer allows fewer than 3 unidirectional streams"};
  control_id_ = control->value;
  qpack_enc_id_ = enc->value;
  qpack_dec_id_ = dec->value;
  if (nghttp3_conn_bind_control_stream(raw, static_cast<std::int64_t>(control_id_)) != 0 ||
      nghttp3_conn_bind_qpack_streams(raw, static_cast<std::int64_t>(qpack_enc_id_),
                                      static_cast<std::int64_t>(qpack_dec_id_)) != 0) {
    return Error{TransportError::kInternalError, "nghttp3 refused the control streams"};
  }
  return {};
}

Session::Stream* Session::find(std::uint64_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

bool Session::is_local_critical(std::uint64_t id) const {
  return id == control_id_ || id == qpack_enc_id_ || id == qpack_dec_id_;
}

bool Session::is_peer_initiated(std::uint64_t id) const { return is_client_initiated(id) == server_; }

// A stream the peer opened that we have not seen yet: request streams get their state here.
// Returns false for streams we have finished with (late data) and for our own streams.
bool Session::adopt_peer_stream(std::uint64_t id) {
  if (!is_peer_initiated(id) || finished_.contains(id)) return false;
  if (is_uni(id)) {
    peer_uni_.insert(id);
  } else if (!find(id)) {
    streams_.emplace(id, std::make_unique<Stream>(id));
  }
  return true;
}

void Session::on_connection_event(const conn::Event& event) {
  if (failed_) return;
  if (const auto* o = std::get_if<conn::StreamOpened>(&event)) {
    if (adopt_peer_stream(o->id.value)) readable_.insert(o->id.value);
  } else if (const auto* r = std::get_if<conn::StreamReadable>(&event)) {
    const std::uint64_t id = r->id.value;
    if (find(id) || peer_uni_.count(id) > 0 || adopt_peer_stream(id)) readable_.insert(id);
  } else if (const auto* w = std::get_if<conn::StreamWritable>(&event)) {
    (void)nghttp3_conn_unblock_stream(h3_.get(), static_cast<std::int64_t>(w->id.value));
  } else if (const auto* rs = std::get_if<conn::StreamReset>(&event)) {
    on_peer_reset(rs->id.value, rs->app_error);
  } else if (const auto* ss = std::get_if<conn::StreamStopSending>(&event)) {
    on_peer_stop_sending(ss->id.value, ss->app_error);
  }
  finish_touched();
}

void Session::pump() {
  if (failed_ || conn_.is_closing()) return;
  // Reading may make more streams readable (a QPACK encoder stream unblocks requests): loop
  // until nothing is left, each stream bounded by its buffer limit, the rounds bounded too (what
  // is left waits for the next pump).
  for (std::size_t rounds = 0; !readable_.empty() && !failed_ && rounds < 4 * (streams_.size() + 8); ++rounds) {
    const std::uint64_t id = *readable_.begin();
    readable_.erase(readable_.begin());
    read_stream(id);
  }
  run_pending_cancels();
  if (!failed_) write_streams();
  run_pending_cancels();
  finish_touched();
}

std::optional<Event> Session::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void Session::read_stream(std::uint64_t id) {
  const bool uni = is_uni(id);
  if (uni && peer_uni_.count(id) == 0) return;
  for (;;) {
    Stream* st = uni ? nullptr : find(id);
    if (!uni && (!st || st->recv_done)) return;
    if (st && st->held + static_cast<std::int64_t>(st->unread()) >=
                  static_cast<std::int64_t>(config_.max_buffered_per_stream)) {
      return;  // read_body() puts it back once the application has taken some
    }
    auto r = conn_.read(StreamId{id}, buf_);
    if (!r) {  // the connection no longer has the stream
      if (st) {
        st->recv_done = true;
        touched_.insert(id);
      } else {
        peer_uni_.erase(id);
        finished_.insert(id);
      }
      return;
    }
    if (r->reset) {
      on_peer_reset(id, r->reset_code);
      return;
    }
    if (r->bytes == 0 && !r->fin) return;
    if (st) st->held += static_cast<std::int64_t>(r->bytes);
    const nghttp3_ssize n = nghttp3_conn_read_stream(h3_.get(), static_cast<std::int64_t>(id), buf_.data(), r->bytes,
                                                     r->fin ? 1 : 0);
    if (n < 0) return fail_lib(static_cast<int>(n), "reading a stream");
    if (Stream* again = uni ? nullptr : find(id)) again->held -= n;
    if (r->fin) {
      if (uni) {
        peer_uni_.erase(id);
        finished_.insert(id);
      } else if (Stream* done = find(id)) {
        done->recv_done = true;
        touched_.insert(id);
      }
      return;
    }
  }
}

void Session::write_streams() {
  std::array<nghttp3_vec, 16> vec{};
  // Bounded: each round hands one stream's data to the connection or blocks that stream.
  for (int round = 0; round < 100'000 && !failed_; ++round) {
    std::int64_t sid = -1;
    int fin = 0;
    const nghttp3_ssize n = nghttp3_conn_writev_stream(h3_.get(), &sid, &fin, vec.data(), vec.size());
    if (n < 0) return fail_lib(static_cast<int>(n), "writing a stream");
    if (sid < 0) return;
    const auto id = static_cast<std::uint64_t>(sid);
    std::size_t taken = 0;
    bool complete = true, gone = false;
    for (nghttp3_ssize i = 0; i < n; ++i) {
      const Bytes b(vec[static_cast<std::size_t>(i)].base, vec[static_cast<std::size_t>(i)].len);
      auto w = conn_.write(StreamId{id}, b, fin != 0 && i + 1 == n);
      if (!w) {
        gone = true;
        break;
      }
      taken += *w;
      if (*w < b.size()) {
        complete = false;
        break;
      }
    }
    if (!gone && n == 0 && fin != 0) gone = !conn_.write(StreamId{id}, Bytes{}, true);
    if (gone) {
      // Reset by us or the peer (STOP_SENDING) in the meantime.
      if (is_local_critical(id)) return fail(kClosedCriticalStream, "cannot write a critical stream");
      nghttp3_conn_shutdown_stream_write(h3_.get(), sid);
      if (Stream* st = find(id)) {
        st->send_done = true;
        touched_.insert(id);
      }
      continue;
    }
    int rv = nghttp3_conn_add_write_offset(h3_.get(), sid, taken);
    // The connection keeps its own copy for retransmission: nghttp3's can go (see session.h).
    if (rv == 0 && taken > 0) rv = nghttp3_conn_add_ack_offset(h3_.get(), sid, taken);
    if (rv != 0) return fail_lib(rv, "accounting written data");
    if (!complete) {
      nghttp3_conn_block_stream(h3_.get(), sid);  // until the connection reports StreamWritable
      continue;
    }
    if (fin != 0) {
      if (Stream* st = find(id)) {
        st->send_done = true;
        if (server_ && !st->recv_done) {
          // RFC 9114 4.1.2: the response is complete, so the rest of the request is of no use.
          (void)conn_.stop_sending(StreamId{id}, kNoError);
          (void)nghttp3_conn_shutdown_stream_read(h3_.get(), sid);
          st->recv_done = true;
        }
        touched_.insert(id);
      }
    }
  }
}

void Session::on_peer_reset(std::uint64_t id, std::uint64_t code) {
  if (failed_) return;
  if (is_uni(id)) {
    if (peer_uni_.erase(id) == 0) return;
    finished_.insert(id);
    // A critical stream (control, QPACK) must never close: nghttp3 says which ones are.
    const int rv = nghttp3_conn_close_stream(h3_.get(), static_cast<std::int64_t>(id), code);
    if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND) fail_lib(rv, "a critical stream was reset");
    return;
  }
  Stream* st = find(id);
  if (!st) {
    if (adopt_peer_stream(id)) st = find(id);
    if (!st) return;
  }
  if (st->recv_done) return;
  st->recv_done = true;
  (void)nghttp3_conn_shutdown_stream_read(h3_.get(), static_cast<std::int64_t>(id));
  if (!st->send_done) {
    // RFC 9114 4.1.1: a request that ends without a complete message gets no response.
    const std::uint64_t ours = server_ ? (st->ended ? kRequestCancelled : kRequestIncomplete) : kRequestCancelled;
    (void)conn_.reset_stream(StreamId{id}, ours);
    nghttp3_conn_shutdown_stream_write(h3_.get(), static_cast<std::int64_t>(id));
    st->send_done = true;
    st->source.reset();
  }
  if ((st->announced || !server_) && !st->aborted && !st->cancelled) {
    st->aborted = true;
    push(StreamAborted{StreamId{id}, code});
  }
  touched_.insert(id);
}

void Session::on_peer_stop_sending(std::uint64_t id, std::uint64_t code) {
  if (failed_) return;
  if (is_local_critical(id)) return fail(kClosedCriticalStream, "the peer stopped a critical stream");
  Stream* st = find(id);
  if (!st || st->send_done) return;
  // The connection has already reset our side with the peer's code.
  nghttp3_conn_shutdown_stream_write(h3_.get(), static_cast<std::int64_t>(id));
  st->send_done = true;
  st->source.reset();
  if (server_) {
    // The client does not want the response: the exchange is over.
    if (!st->recv_done) {
      (void)conn_.stop_sending(StreamId{id}, kRequestCancelled);
      (void)nghttp3_conn_shutdown_stream_read(h3_.get(), static_cast<std::int64_t>(id));
      st->recv_done = true;
    }
    if (st->announced && !st->aborted && !st->cancelled) {
      st->aborted = true;
      push(StreamAborted{StreamId{id}, code});
    }
  }
  // A client keeps reading: a server may stop the request once its response is complete.
  touched_.insert(id);
}

void Session::run_pending_cancels() {
  while (!pending_cancel_.empty() && !failed_) {
    const auto [id, code] = pending_cancel_.front();
    pending_cancel_.pop_front();
    Stream* st = find(id);
    if (!st || st->cancelled) continue;
    abort_both(*st, code);
    if (!st->aborted) {
      st->aborted = true;
      push(StreamAborted{StreamId{id}, code});
    }
  }
}

void Session::abort_both(Stream& st, std::uint64_t code) {
  const auto sid = static_cast<std::int64_t>(st.id);
  if (!st.recv_done) {
    (void)conn_.stop_sending(StreamId{st.id}, code);
    (void)nghttp3_conn_shutdown_stream_read(h3_.get(), sid);
    st.recv_done = true;
  }
  if (!st.send_done) {
    (void)conn_.reset_stream(StreamId{st.id}, code);
    nghttp3_conn_shutdown_stream_write(h3_.get(), sid);
    st.send_done = true;
  }
  st.source.reset();
  st.body.clear();
  st.body_pos = 0;
  touched_.insert(st.id);
}

void Session::finish_touched() {
  while (!touched_.empty()) {
    const std::uint64_t id = *touched_.begin();
    touched_.erase(touched_.begin());
    maybe_finish(id);
  }
}

void Session::maybe_finish(std::uint64_t id) {
  Stream* st = find(id);
  if (!st || failed_) return;
  if (!st->h3_closed && st->recv_done && st->send_done) {
    const int rv = nghttp3_conn_close_stream(h3_.get(), static_cast<std::int64_t>(id), kNoError);
    if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND) return fail_lib(rv, "closing a stream");
    st->h3_closed = true;
  }
  if (!st->h3_closed) return;
  if (!server_ && !st->ended && !st->aborted && !st->cancelled) {
    // The response stopped short without a reset we could report (nghttp3 aborted reading it).
    st->aborted = true;
    push(StreamAborted{StreamId{id}, kRequestIncomplete});
  }
  // A client's application still has to read the end of the response.
  if (server_ || st->app_saw_fin || st->aborted || st->cancelled) forget(id);
}

void Session::forget(std::uint64_t id) {
  streams_.erase(id);
  finished_.insert(id);
  readable_.erase(id);
}

void Session::fail(std::uint64_t code, std::string reason) {
  if (failed_) return;
  failed_ = true;
  push(SessionFailed{code, reason});
  conn_.close(code, reason);
}

void Session::fail_lib(int lib_error, const char* where) {
  fail(nghttp3_err_infer_quic_app_error_code(lib_error), std::string(where) + ": " + nghttp3_strerror(lib_error));
}

Result<StreamId> Session::submit_request(const Request& request, std::unique_ptr<BodySource> body) {
  if (server_) return Error{TransportError::kInternalError, "a server does not send requests"};
  if (failed_) return Error{TransportError::kInternalError, "the HTTP/3 session failed"};
  if (goaway_id_) return Error{TransportError::kInternalError, "the server is shutting down (GOAWAY)"};
  auto id = conn_.open_stream(true);
  if (!id) return id.error();
  std::vector<nghttp3_nv> nva;
  nva.reserve(4 + request.fields.size());
  nva.push_back(make_nv(":method", request.method));
  nva.push_back(make_nv(":scheme", request.scheme));
  nva.push_back(make_nv(":authority", request.authority));
  nva.push_back(make_nv(":path", request.path));
  for (const auto& f : request.fields) nva.push_back(make_nv(f.name, f.value));
  auto& st = streams_[id->value];
  st = std::make_unique<Stream>(id->value);
  st->submitted = true;
  st->source = std::move(body);
  nghttp3_data_reader dr{&Callbacks::read_data};
  const int rv = nghttp3_conn_submit_request(h3_.get(), static_cast<std::int64_t>(id->value), nva.data(), nva.size(),
                                             st->source ? &dr : nullptr, nullptr);
  if (rv != 0) {
    st->cancelled = true;
    abort_both(*st, kInternalError);
    finish_touched();
    return Error{TransportError::kInternalError, "nghttp3 refused the request"};
  }
  return *id;
}

Status Session::submit_response(StreamId id, const Response& response, std::unique_ptr<BodySource> body) {
  if (!server_) return Error{TransportError::kInternalError, "a client does not send responses"};
  if (failed_) return Error{TransportError::kInternalError, "the HTTP/3 session failed"};
  Stream* st = find(id.value);
  if (!st || !st->announced || st->submitted || st->send_done) {
    return Error{TransportError::kStreamStateError, "no request waits for a response on this stream"};
  }
  if (response.status < 100 || response.status > 999) return Error{TransportError::kInternalError, "bad status"};
  const std::string status = std::to_string(response.status);
  std::vector<nghttp3_nv> nva;
  nva.reserve(1 + response.fields.size());
  nva.push_back(make_nv(":status", status));
  for (const auto& f : response.fields) nva.push_back(make_nv(f.name, f.value));
  st->submitted = true;
  st->source = std::move(body);
  nghttp3_data_reader dr{&Callbacks::read_data};
  const int rv = nghttp3_conn_submit_response(h3_.get(), static_cast<std::int64_t>(id.value), nva.data(), nva.size(),
                                              st->source ? &dr : nullptr);
  if (rv != 0) {
    abort_both(*st, kInternalError);
    finish_touched();
    return Error{TransportError::kInternalError, "nghttp3 refused the response"};
  }
  return {};
}

Result<BodyRead> Session::read_body(StreamId id, MutBytes out) {
  Stream* st = find(id.value);
  if (!st) return Error{TransportError::kStreamStateError, "no message on this stream"};
  BodyRead r;
  r.bytes = std::min(out.size(), st->unread());
  std::copy_n(st->body.begin() + static_cast<std::ptrdiff_t>(st->body_pos), r.bytes, out.begin());
  st->body_pos += r.bytes;
  if (st->body_pos == st->body.size()) {
    st->body.clear();
    st->body_pos = 0;
  }
  r.fin = st->ended && st->unread() == 0 && !st->aborted && !st->cancelled;
  if (r.fin) {
    st->app_saw_fin = true;
    touched_.insert(id.value);
  } else if (!st->recv_done && r.bytes > 0) {
    readable_.insert(id.value);  // it may have stopped for want of room
  }
  finish_touched();
  return r;
}

void Session::resume_body(StreamId id) {
  if (!failed_ && find(id.value)) (void)nghttp3_conn_resume_stream(h3_.get(), static_cast<std::int64_t>(id.value));
}

Status Session::cancel(StreamId id, std::uint64_t code) {
  Stream* st = find(id.value);
  if (!st) return Error{TransportError::kStreamStateError, "no message on this stream"};
  st->cancelled = true;
  abort_both(*st, code);
  finish_touched();
  return {};
}

Status Session::shutdown() {
  if (failed_) return Error{TransportError::kInternalError, "the HTTP/3 session failed"};
  const int rv = nghttp3_conn_shutdown(h3_.get());
  if (rv != 0) return Error{TransportError::kInternalError, "nghttp3 could not queue GOAWAY"};
  return {};
}

}  // namespace roam::h3
