// roam-client's HTTP/3 exchange: GET (or HEAD) one URL. A 2xx response's body goes to an Output;
// any other status fails the exchange with one line ("404 Not Found") and leaves nothing behind.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "exchange.h"
#include "output.h"
#include "url.h"

namespace roam::apps {

class H3Download final : public Exchange {
 public:
  // head: send HEAD and write the status line and header fields to `out` instead of a body.
  H3Download(Url url, std::unique_ptr<Output> out, bool head) : url_(std::move(url)), out_(std::move(out)), head_(head) {}
  std::string label() const override { return url_.to_string(); }
  std::optional<h3::Request> http_request() const override;
  std::optional<std::string> on_response(const h3::Response& response) override;
  std::optional<std::string> on_data(Bytes data) override;
  std::optional<std::string> on_fin() override;
  void on_failure() override { out_->abort(); }
  std::optional<std::uint64_t> expected_bytes() const override { return expected_; }
  std::string reset_message(std::uint64_t code) const override;

 private:
  Url url_;
  std::unique_ptr<Output> out_;
  bool head_;
  std::optional<std::uint64_t> expected_;
  std::uint64_t received_ = 0;
};

}  // namespace roam::apps
