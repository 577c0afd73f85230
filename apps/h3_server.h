// roam-server's HTTP/3 side: serves a Site over h3::Session. GET and HEAD; 200 with
// content-length and content-type, 404 for what is not there, 400 for malformed targets (".."
// segments included: no path leaves the served tree), 405 for other methods.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "h3/session.h"
#include "server_protocol.h"
#include "site.h"

namespace roam::apps {

// The answer to one request: status, fields, and the resource for a 200 (not for HEAD).
struct H3Answer {
  h3::Response response;
  std::unique_ptr<Resource> body;  // the resource to send, or nullptr
  std::string error_body;          // the text body of an error status (not for HEAD)
};
// Decides the answer to `request` from `site` (pure: no I/O beyond the site's lookup).
H3Answer answer_request(const Site& site, const h3::Request& request);

class H3Server final : public ServerProtocol {
 public:
  H3Server(std::shared_ptr<const Site> site, RequestLogger log) : site_(std::move(site)), log_(std::move(log)) {}
  void pump(conn::Connection& c) override;
  std::uint64_t close_code() const override { return h3::kNoError; }

 private:
  void on_request(conn::Connection& c, const h3::RequestReceived& r);

  std::shared_ptr<const Site> site_;
  RequestLogger log_;
  // Declared last: destroyed first, with the body sources that count into bytes_sent_.
  std::unique_ptr<h3::Session> session_;
};

}  // namespace roam::apps
