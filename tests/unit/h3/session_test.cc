// h3::Session end to end: a client and a server session over two in-memory connections.
#include "h3/session.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "h3_pair.h"

namespace roam::h3 {
namespace {

using testing::H3Pair;

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> v(n);
  SeededRandom r(seed);
  r.fill(v);
  return v;
}

// A body that produces `size` bytes of a pattern, counting what the session pulled from it.
class PatternBody final : public BodySource {
 public:
  PatternBody(std::uint64_t size, std::uint64_t* pulled) : size_(size), pulled_(pulled) {}
  static std::uint8_t byte_at(std::uint64_t off) { return static_cast<std::uint8_t>((off * 7) ^ (off >> 11)); }
  Result<std::size_t> read(MutBytes out, bool& eof) override {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - pos_));
    for (std::size_t i = 0; i < n; ++i) out[i] = byte_at(pos_ + i);
    pos_ += n;
    if (pulled_) *pulled_ += n;
    eof = pos_ == size_;
    return n;
  }

 private:
  std::uint64_t size_, pos_ = 0;
  std::uint64_t* pulled_;
};

// A body that has nothing until told, then its bytes.
class LateBody final : public BodySource {
 public:
  explicit LateBody(std::string text) : text_(std::move(text)) {}
  bool ready = false;
  Result<std::size_t> read(MutBytes out, bool& eof) override {
    if (!ready) return std::size_t{0};
    return inner_.read(out, eof);
  }

 private:
  std::string text_;
  BytesBody inner_{text_};
};

class FailingBody final : public BodySource {
 public:
  Result<std::size_t> read(MutBytes, bool&) override {
    return Error{TransportError::kInternalError, "disk on fire"};
  }
};

// The server side of the tests: answers each request from a table of paths.
struct TestServer {
  std::map<std::string, std::vector<std::uint8_t>> files;
  std::vector<Request> requests;
  std::map<std::uint64_t, std::vector<std::uint8_t>> request_bodies;
  std::vector<StreamAborted> aborted;
  std::set<std::uint64_t> posts;
  // When set, makes the body for a path (overrides `files`).
  std::function<std::unique_ptr<BodySource>(const std::string&)> make_body;
  bool answer = true;
  H3Pair* pair = nullptr;

  void on_event(const Event& e) {
    Session& s = *pair->server.session;
    if (const auto* r = std::get_if<RequestReceived>(&e)) {
      requests.push_back(r->request);
      if (!answer) return;
      if (r->request.method == "POST") {  // answered once the body is in
        posts.insert(r->id.value);
        return;
      }
      Response resp;
      std::unique_ptr<BodySource> body;
      if (make_body) {
        body = make_body(r->request.path);
      } else if (auto it = files.find(r->request.path); it != files.end()) {
        resp.fields.push_back({"content-length", std::to_string(it->second.size())});
        if (r->request.method != "HEAD") body = std::make_unique<BytesBody>(it->second);
      } else {
        resp.status = 404;
        body = std::make_unique<BytesBody>(std::string_view("not here\n"));
      }
      ASSERT_TRUE(s.submit_response(r->id, resp, std::move(body)).ok());
    } else if (const auto* b = std::get_if<BodyReadable>(&e)) {
      if (posts.count(b->id.value) == 0) return;
      std::vector<std::uint8_t> buf(4096);
      for (;;) {
        auto got = s.read_body(b->id, buf);
        ASSERT_TRUE(got.ok());
        auto& body = request_bodies[b->id.value];
        body.insert(body.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got->bytes));
        if (got->fin) {
          // POST: answer with the size of what arrived.
          posts.erase(b->id.value);
          const std::string size = std::to_string(body.size());
          Response resp;
          resp.status = 201;
          ASSERT_TRUE(s.submit_response(b->id, resp, std::make_unique<BytesBody>(size)).ok());
          break;
        }
        if (got->bytes == 0) break;
      }
    } else if (const auto* a = std::get_if<StreamAborted>(&e)) {
      aborted.push_back(*a);
    }
  }
};

// The client side: what arrived on each stream.
struct Exchange {
  std::optional<Response> response;
  std::vector<std::uint8_t> body;
  bool fin = false;
  std::optional<std::uint64_t> aborted;
};

struct TestClient {
  std::map<std::uint64_t, Exchange> exchanges;
  bool read = true;  // read bodies as they come
  H3Pair* pair = nullptr;
  std::function<std::size_t()> server_requests = [] { return std::size_t{0}; };
  std::optional<std::size_t> requests_seen_at_first_fin;

  void on_event(const Event& e) {
    if (const auto* r = std::get_if<ResponseReceived>(&e)) {
      exchanges[r->id.value].response = r->response;
    } else if (const auto* b = std::get_if<BodyReadable>(&e)) {
      if (read) drain(b->id);
    } else if (const auto* a = std::get_if<StreamAborted>(&e)) {
      exchanges[a->id.value].aborted = a->code;
    }
  }
  void drain(StreamId id) {
    std::vector<std::uint8_t> buf(16384);
    auto& ex = exchanges[id.value];
    for (;;) {
      auto r = pair->client.session->read_body(id, buf);
      if (!r) return;
      ex.body.insert(ex.body.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->bytes));
      if (r->fin && !ex.fin) {
        ex.fin = true;
        if (!requests_seen_at_first_fin) requests_seen_at_first_fin = server_requests();
      }
      if (r->fin || r->bytes == 0) return;
    }
  }
};

struct Fixture {
  H3Pair pair;
  TestServer server;
  TestClient client;
  Fixture() {
    server.pair = &pair;
    client.pair = &pair;
    pair.on_server_event = [this](const Event& e) { server.on_event(e); };
    pair.on_client_event = [this](const Event& e) { client.on_event(e); };
    client.server_requests = [this] { return server.requests.size(); };
  }
  StreamId get(const std::string& path, const std::string& method = "GET") {
    Request r;
    r.method = method;
    r.authority = "localhost";
    r.path = path;
    auto id = pair.client.session->submit_request(r);
    EXPECT_TRUE(id.ok()) << (id ? "" : id.error().reason);
    return id ? *id : StreamId{~0ull};
  }
  bool done(StreamId id) {
    auto it = client.exchanges.find(id.value);
    return it != client.exchanges.end() && (it->second.fin || it->second.aborted);
  }
};

TEST(H3Session, ServesOneMegabyteByteExact) {
  Fixture f;
  f.server.files["/big"] = random_bytes(1 << 20, 1);
  ASSERT_TRUE(f.pair.sessions_up());
  const StreamId id = f.get("/big");
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(id); }));
  const Exchange& ex = f.client.exchanges[id.value];
  ASSERT_TRUE(ex.response);
  EXPECT_EQ(ex.response->status, 200);
  ASSERT_NE(find_field(ex.response->fields, "content-length"), nullptr);
  EXPECT_EQ(*find_field(ex.response->fields, "content-length"), "1048576");
  EXPECT_TRUE(ex.fin);
  EXPECT_EQ(ex.body, f.server.files["/big"]);
  ASSERT_EQ(f.server.requests.size(), 1u);
  EXPECT_EQ(f.server.requests[0].method, "GET");
  EXPECT_EQ(f.server.requests[0].scheme, "https");
  EXPECT_EQ(f.server.requests[0].authority, "localhost");
  EXPECT_EQ(f.server.requests[0].path, "/big");
  // Both sessions forget the stream once it is over.
  ASSERT_TRUE(f.pair.run_until([&] {
    return f.pair.client.session->active_streams() == 0 && f.pair.server.session->active_streams() == 0;
  }));
  EXPECT_FALSE(f.pair.client.session->failed());
  EXPECT_FALSE(f.pair.server.session->failed());
}

TEST(H3Session, HundredConcurrentRequests) {
  Fixture f;
  for (int i = 0; i < 100; ++i) {
    f.server.files["/f" + std::to_string(i)] = random_bytes(1000 + 137 * static_cast<std::size_t>(i), 100 + i);
  }
  ASSERT_TRUE(f.pair.sessions_up());
  std::vector<std::pair<StreamId, std::string>> ids;
  for (int i = 0; i < 100; ++i) {
    const std::string path = "/f" + std::to_string(i);
    ids.emplace_back(f.get(path), path);
  }
  ASSERT_TRUE(f.pair.run_until([&] {
    for (auto& [id, p] : ids) {
      if (!f.done(id)) return false;
    }
    return true;
  }));
  for (auto& [id, path] : ids) {
    const Exchange& ex = f.client.exchanges[id.value];
    ASSERT_TRUE(ex.response) << path;
    EXPECT_EQ(ex.response->status, 200) << path;
    EXPECT_EQ(ex.body, f.server.files[path]) << path;
  }
  EXPECT_EQ(f.server.requests.size(), 100u);
  // All 100 were in flight together: every request had reached the server before the first
  // response was complete at the client.
  EXPECT_EQ(f.client.requests_seen_at_first_fin, 100u);
  EXPECT_FALSE(f.pair.client.session->failed());
  ASSERT_TRUE(f.pair.run_until([&] {
    return f.pair.client.session->active_streams() == 0 && f.pair.server.session->active_streams() == 0;
  }));
}

TEST(H3Session, MissingPathIs404WithBody) {
  Fixture f;
  ASSERT_TRUE(f.pair.sessions_up());
  const StreamId id = f.get("/nope");
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(id); }));
  const Exchange& ex = f.client.exchanges[id.value];
  ASSERT_TRUE(ex.response);
  EXPECT_EQ(ex.response->status, 404);
  EXPECT_EQ(std::string(ex.body.begin(), ex.body.end()), "not here\n");
}

TEST(H3Session, HeadHasLengthAndNoBody) {
  Fixture f;
  f.server.files["/x"] = random_bytes(5000, 3);
  ASSERT_TRUE(f.pair.sessions_up());
  const StreamId id = f.get("/x", "HEAD");
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(id); }));
  const Exchange& ex = f.client.exchanges[id.value];
  ASSERT_TRUE(ex.response);
  EXPECT_EQ(ex.response->status, 200);
  ASSERT_NE(find_field(ex.response->fields, "content-length"), nullptr);
  EXPECT_EQ(*find_field(ex.response->fields, "content-length"), "5000");
  EXPECT_TRUE(ex.fin);
  EXPECT_TRUE(ex.body.empty());
  EXPECT_EQ(f.server.requests.at(0).method, "HEAD");
}

TEST(H3Session, RequestBodyReachesServer) {
  Fixture f;
  ASSERT_TRUE(f.pair.sessions_up());
  const auto upload = random_bytes(300'000, 5);
  Request r;
  r.method = "POST";
  r.authority = "localhost";
  r.path = "/upload";
  r.fields.push_back({"content-type", "application/octet-stream"});
  auto id = f.pair.client.session->submit_request(r, std::make_unique<BytesBody>(upload));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(*id); }));
  EXPECT_EQ(f.server.request_bodies[id->value], upload);
  const Exchange& ex = f.client.exchanges[id->value];
  ASSERT_TRUE(ex.response);
  EXPECT_EQ(ex.response->status, 201);
  EXPECT_EQ(std::string(ex.body.begin(), ex.body.end()), "300000");
  ASSERT_NE(find_field(f.server.requests.at(0).fields, "content-type"), nullptr);
}

TEST(H3Session, UnreadBodyHoldsTheSenderBack) {
  Fixture f;
  std::uint64_t pulled = 0;
  constexpr std::uint64_t kSize = 40ull << 20;
  f.server.make_body = [&](const std::string&) { return std::make_unique<PatternBody>(kSize, &pulled); };
  f.client.read = false;
  ASSERT_TRUE(f.pair.sessions_up());
  const StreamId id = f.get("/stream");
  // Let it run far longer than the transfer would take if nothing held it back.
  f.pair.run_for(std::chrono::seconds(2));
  // What the server could pull: the client session's buffer, the stream's flow-control window
  // (auto-tuned, at most 16 MB), the server connection's send buffer and a few chunks.
  EXPECT_GT(pulled, 0u);
  EXPECT_LT(pulled, 24ull << 20);
  f.client.read = true;
  f.client.drain(id);
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(id); }));
  const Exchange& ex = f.client.exchanges[id.value];
  ASSERT_EQ(ex.body.size(), kSize);
  for (std::uint64_t i = 0; i < kSize; i += 4093) ASSERT_EQ(ex.body[i], PatternBody::byte_at(i)) << i;
  EXPECT_EQ(pulled, kSize);
}

TEST(H3Session, BodyThatWaitsIsResumed) {
  Fixture f;
  LateBody* late = nullptr;
  f.server.make_body = [&](const std::string&) {
    auto b = std::make_unique<LateBody>("finally");
    late = b.get();
    return b;
  };
  ASSERT_TRUE(f.pair.sessions_up());
  const StreamId id = f.get("/late");
  ASSERT_TRUE(f.pair.run_until([&] { return f.client.exchanges[id.value].response.has_value(); }));
  f.pair.run_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(f.done(id));
  ASSERT_NE(late, nullptr);
  late->ready = true;
  f.pair.server.session->resume_body(id);
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(id); }));
  const Exchange& ex = f.client.exchanges[id.value];
  EXPECT_EQ(std::string(ex.body.begin(), ex.body.end()), "finally");
}

TEST(H3Session, FailingBodyResetsTheStream) {
  Fixture f;
  f.server.make_body = [](const std::string&) { return std::make_unique<FailingBody>(); };
  ASSERT_TRUE(f.pair.sessions_up());
  const StreamId id = f.get("/broken");
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(id); }));
  const Exchange& ex = f.client.exchanges[id.value];
  ASSERT_TRUE(ex.aborted);
  EXPECT_EQ(*ex.aborted, kInternalError);
  EXPECT_FALSE(ex.fin);
  // Only that stream: the session goes on.
  f.server.make_body = nullptr;
  f.server.files["/ok"] = random_bytes(10, 9);
  const StreamId id2 = f.get("/ok");
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(id2); }));
  EXPECT_EQ(f.client.exchanges[id2.value].body, f.server.files["/ok"]);
}

TEST(H3Session, ClientCancelsADownload) {
  Fixture f;
  std::uint64_t pulled = 0;
  f.server.make_body = [&](const std::string&) { return std::make_unique<PatternBody>(100ull << 20, &pulled); };
  ASSERT_TRUE(f.pair.sessions_up());
  const StreamId id = f.get("/huge");
  ASSERT_TRUE(f.pair.run_until([&] { return f.client.exchanges[id.value].body.size() > 100'000; }));
  ASSERT_TRUE(f.pair.client.session->cancel(id).ok());
  ASSERT_TRUE(f.pair.run_until([&] { return !f.server.aborted.empty(); }));
  EXPECT_EQ(f.server.aborted[0].id, id);
  EXPECT_EQ(f.server.aborted[0].code, kRequestCancelled);
  ASSERT_TRUE(f.pair.run_until([&] {
    return f.pair.client.session->active_streams() == 0 && f.pair.server.session->active_streams() == 0;
  }));
  const std::uint64_t after = pulled;
  f.pair.run_for(std::chrono::milliseconds(500));
  EXPECT_EQ(pulled, after);  // nothing more produced for the cancelled stream
  EXPECT_LT(pulled, 100ull << 20);
  EXPECT_FALSE(f.client.exchanges[id.value].fin);
  EXPECT_FALSE(f.pair.client.session->failed());
}

TEST(H3Session, ServerGoawayLetsRunningRequestsFinish) {
  Fixture f;
  f.server.files["/a"] = random_bytes(200'000, 11);
  ASSERT_TRUE(f.pair.sessions_up());
  const StreamId id = f.get("/a");
  ASSERT_TRUE(f.pair.run_until([&] { return !f.server.requests.empty(); }));
  ASSERT_TRUE(f.pair.server.session->shutdown().ok());
  ASSERT_TRUE(f.pair.run_until([&] { return f.pair.client.session->goaway_id().has_value(); }));
  EXPECT_GT(*f.pair.client.session->goaway_id(), id.value);
  Request r;
  r.authority = "localhost";
  r.path = "/a";
  EXPECT_FALSE(f.pair.client.session->submit_request(r).ok());
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(id); }));
  EXPECT_EQ(f.client.exchanges[id.value].body, f.server.files["/a"]);
  bool saw = false;
  for (const auto& e : f.pair.client.events) saw = saw || std::holds_alternative<GoawayReceived>(e);
  EXPECT_TRUE(saw);
}

TEST(H3Session, ResetCriticalStreamFailsTheSession) {
  Fixture f;
  ASSERT_TRUE(f.pair.sessions_up());
  f.pair.run_for(std::chrono::milliseconds(100));  // SETTINGS exchanged
  // The client's control stream is its first unidirectional stream (ID 2). Resetting it under the
  // session's feet is an H3_CLOSED_CRITICAL_STREAM connection error for the server.
  ASSERT_TRUE(f.pair.client.conn->reset_stream(StreamId{2}, 0x100).ok());
  ASSERT_TRUE(f.pair.run_until([&] { return f.pair.server.session->failed(); }));
  const auto* failed = std::get_if<SessionFailed>(&f.pair.server.events.back());
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->code, kClosedCriticalStream);
  // The client learns it from the connection close.
  bool closed_with_code = false;
  ASSERT_TRUE(f.pair.run_until([&] {
    for (const auto& e : f.pair.client.conn_events) {
      if (const auto* c = std::get_if<conn::ConnectionClosed>(&e)) {
        closed_with_code = c->by_peer && c->application && c->error_code == kClosedCriticalStream;
        return true;
      }
    }
    return false;
  }));
  EXPECT_TRUE(closed_with_code);
}

TEST(H3Session, MalformedRequestFailsOnlyItsStream) {
  Fixture f;
  f.server.files["/ok"] = random_bytes(100, 21);
  ASSERT_TRUE(f.pair.sessions_up());
  // Connection-specific fields make a request malformed in HTTP/3 (RFC 9114 4.2).
  Request bad;
  bad.authority = "localhost";
  bad.path = "/ok";
  bad.fields.push_back({"connection", "keep-alive"});
  auto id = f.pair.client.session->submit_request(bad);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(*id); }));
  const Exchange& ex = f.client.exchanges[id->value];
  ASSERT_TRUE(ex.aborted.has_value());
  EXPECT_EQ(*ex.aborted, kMessageError);
  EXPECT_TRUE(f.server.requests.empty());  // never reached the application
  // The connection and both sessions carry on.
  const StreamId ok = f.get("/ok");
  ASSERT_TRUE(f.pair.run_until([&] { return f.done(ok); }));
  EXPECT_EQ(f.client.exchanges[ok.value].body, f.server.files["/ok"]);
  EXPECT_FALSE(f.pair.server.session->failed());
  EXPECT_FALSE(f.pair.client.session->failed());
}

TEST(H3Session, RequestOnlyAfterHandshake) {
  H3Pair pair;
  auto s = Session::start(*pair.client.conn);
  EXPECT_FALSE(s.ok());
}

TEST(H3Session, ServerRefusesToSendRequests) {
  Fixture f;
  ASSERT_TRUE(f.pair.sessions_up());
  Request r;
  EXPECT_FALSE(f.pair.server.session->submit_request(r).ok());
  EXPECT_FALSE(f.pair.client.session->submit_response(StreamId{0}, Response{}).ok());
  EXPECT_FALSE(f.pair.server.session->submit_response(StreamId{0}, Response{}).ok());  // no request there
}

TEST(H3StreamSet, StaysCompactWhenFinishedInOrder) {
  StreamSet s;
  for (std::uint64_t i = 0; i < 1000; ++i) s.insert(i * 4);
  EXPECT_TRUE(s.contains(0));
  EXPECT_TRUE(s.contains(3996));
  EXPECT_FALSE(s.contains(4000));
  EXPECT_FALSE(s.contains(2));
  EXPECT_EQ(s.sparse_size(), 0u);
  s.insert(4004);
  EXPECT_TRUE(s.contains(4004));
  EXPECT_FALSE(s.contains(4000));
  EXPECT_EQ(s.sparse_size(), 1u);
  s.insert(4000);
  EXPECT_EQ(s.sparse_size(), 0u);
  EXPECT_TRUE(s.contains(4000));
}

TEST(H3Message, NamesAndLookups) {
  EXPECT_EQ(error_name(kRequestCancelled), "H3_REQUEST_CANCELLED");
  EXPECT_EQ(error_name(0x42), "");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  Fields f{{"a", "1"}, {"b", "2"}, {"a", "3"}};
  ASSERT_NE(find_field(f, "a"), nullptr);
  EXPECT_EQ(*find_field(f, "a"), "1");
  EXPECT_EQ(find_field(f, "c"), nullptr);
}

}  // namespace
}  // namespace roam::h3
