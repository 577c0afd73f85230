#include "h3_client.h"

#include <charconv>

namespace roam::apps {

std::optional<h3::Request> H3Download::http_request() const {
  h3::Request r;
  r.method = head_ ? "HEAD" : "GET";
  r.scheme = "https";
  r.authority = url_.authority();
  r.path = url_.path;
  r.fields.push_back({"user-agent", "roam-client"});
  return r;
}

std::optional<std::string> H3Download::on_response(const h3::Response& response) {
  if (response.status < 200 || response.status > 299) {
    std::string why = std::to_string(response.status);
    if (auto reason = h3::reason_phrase(response.status); !reason.empty()) why += " " + std::string(reason);
    return why;
  }
  if (const std::string* len = h3::find_field(response.fields, "content-length"); len && !head_) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(len->data(), len->data() + len->size(), n);
    if (ec == std::errc() && end == len->data() + len->size()) expected_ = n;
  }
  if (head_) {
    std::string text = "HTTP/3 " + std::to_string(response.status) + "\n";
    for (const auto& f : response.fields) text += f.name + ": " + f.value + "\n";
    return out_->write(Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }
  return std::nullopt;
}

std::optional<std::string> H3Download::on_data(Bytes data) {
  received_ += data.size();
  if (head_) return "a response to HEAD carried a body";
  return out_->write(data);
}

std::optional<std::string> H3Download::on_fin() {
  if (expected_ && received_ != *expected_) {
    return "the body has " + std::to_string(received_) + " bytes, content-length said " + std::to_string(*expected_);
  }
  return out_->finish();
}

std::string H3Download::reset_message(std::uint64_t code) const {
  std::string name(h3::error_name(code));
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(code));
  return "the server reset the stream (" + (name.empty() ? std::string(hex) : name + ", " + hex) + ")";
}

}  // namespace roam::apps
