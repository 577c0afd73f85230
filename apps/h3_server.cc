#include "h3_server.h"

#include <cstdio>

namespace roam::apps {

namespace {

// Streams a Resource as a response body, counting what the session pulls.
class ResourceBody final : public h3::BodySource {
 public:
  ResourceBody(std::unique_ptr<Resource> r, std::uint64_t* counter) : r_(std::move(r)), counter_(counter) {}
  Result<std::size_t> read(MutBytes out, bool& eof) override {
    const std::uint64_t size = r_->size();
    if (offset_ >= size) {
      eof = true;
      return std::size_t{0};
    }
    const auto n = r_->read_at(offset_, out);
    if (!n || *n == 0) return Error{TransportError::kInternalError, "the file cannot be read (did it shrink?)"};
    offset_ += *n;
    *counter_ += *n;
    eof = offset_ >= size;
    return *n;
  }

 private:
  std::unique_ptr<Resource> r_;
  std::uint64_t* counter_;
  std::uint64_t offset_ = 0;
};

H3Answer error_answer(int status) {
  H3Answer a;
  a.response.status = status;
  a.error_body = std::to_string(status) + " " + std::string(h3::reason_phrase(status)) + "\n";
  a.response.fields.push_back({"content-type", "text/plain; charset=utf-8"});
  a.response.fields.push_back({"content-length", std::to_string(a.error_body.size())});
  return a;
}

}  // namespace

H3Answer answer_request(const Site& site, const h3::Request& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    H3Answer a = error_answer(405);
    a.response.fields.push_back({"allow", "GET, HEAD"});
    return a;
  }
  if (request.scheme != "https" || request.path.empty() || request.path.front() != '/') return error_answer(400);
  Lookup found = site.find(request.path);
  if (found.status == LookupStatus::kBadRequest) return error_answer(400);
  if (found.status == LookupStatus::kNotFound) return error_answer(404);
  H3Answer a;
  a.response.status = 200;
  a.response.fields.push_back({"content-type", found.content_type});
  a.response.fields.push_back({"content-length", std::to_string(found.resource->size())});
  a.response.fields.push_back({"server", "roam"});
  a.body = std::move(found.resource);
  return a;
}

void H3Server::pump(conn::Connection& c) {
  if (!session_) {
    // Created before the connection's events are polled, so that no stream goes unseen.
    auto s = h3::Session::start(c);
    if (!s) {
      c.close(h3::kGeneralProtocolError, s.error().reason);
      return;
    }
    session_ = std::move(s).value();
  }
  while (auto ev = c.poll_event()) session_->on_connection_event(*ev);
  session_->pump();
  while (auto e = session_->poll_event()) {
    if (const auto* r = std::get_if<h3::RequestReceived>(&*e)) on_request(c, *r);
    // StreamAborted: the session dropped the stream and its body; nothing of ours to free.
  }
  session_->pump();
}

void H3Server::on_request(conn::Connection& c, const h3::RequestReceived& r) {
  ++requests_;
  H3Answer a = answer_request(*site_, r.request);
  const bool head = r.request.method == "HEAD";
  RequestLogEntry entry{h3::kAlpn, r.request.method, r.request.path, a.response.status, 0};
  if (const std::string* len = h3::find_field(a.response.fields, "content-length")) {
    entry.bytes = std::strtoull(len->c_str(), nullptr, 10);
  }
  if (log_) log_(c, entry);
  std::unique_ptr<h3::BodySource> body;
  if (a.response.status != 200) {
    ++refused_;
    if (!head) {
      bytes_sent_ += a.error_body.size();
      body = std::make_unique<h3::BytesBody>(a.error_body);
    }
  } else if (!head) {
    body = std::make_unique<ResourceBody>(std::move(a.body), &bytes_sent_);
  }
  if (!session_->submit_response(r.id, a.response, std::move(body))) (void)session_->cancel(r.id, h3::kInternalError);
}

}  // namespace roam::apps
