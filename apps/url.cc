#include "url.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace roam::apps {

namespace {

bool parse_port(std::string_view s, std::uint16_t& port) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == ':' || c == '%';
}

// Splits "host[:port]" or "[v6][:port]"; port_required for the bare form.
bool parse_authority(std::string_view a, bool port_required, Url& url, std::string& error) {
  std::string_view host, port;
  bool has_port = false;
  if (!a.empty() && a.front() == '[') {
    const auto close = a.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated '[' in host";
      return false;
    }
    host = a.substr(1, close - 1);
    const auto rest = a.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        error = "unexpected text after ']'";
        return false;
      }
      port = rest.substr(1);
      has_port = true;
    }
    if (!SocketAddress::parse_ip(host)) {
      error = "'" + std::string(host) + "' in brackets is not an IPv6 address";
      return false;
    }
  } else {
    const auto colon = a.rfind(':');
    if (colon != std::string_view::npos) {
      if (a.find(':') != colon) {
        error = "IPv6 addresses must be written in brackets, e.g. [::1]:4433";
        return false;
      }
      host = a.substr(0, colon);
      port = a.substr(colon + 1);
      has_port = true;
    } else {
      host = a;
    }
  }
  if (host.empty() || !std::all_of(host.begin(), host.end(), valid_host_char)) {
    error = "bad host '" + std::string(host) + "'";
    return false;
  }
  if (has_port && !parse_port(port, url.port)) {
    error = "bad port '" + std::string(port) + "'";
    return false;
  }
  if (!has_port && port_required) {
    error = "want https://HOST[:PORT]/PATH or HOST:PORT";
    return false;
  }
  url.host = std::string(host);
  return true;
}

}  // namespace

std::string Url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::to_string() const { return (scheme.empty() ? "https" : scheme) + "://" + authority() + path; }

std::optional<Url> parse_url(std::string_view text, std::string& error) {
  Url url;
  std::string_view rest = text;
  const auto sep = text.find("://");
  if (sep != std::string_view::npos) {
    url.scheme = std::string(text.substr(0, sep));
    std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (url.scheme != "https") {
      error = "unsupported scheme '" + url.scheme + "' (roam-client speaks https:// over QUIC)";
      return std::nullopt;
    }
    rest = text.substr(sep + 3);
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    error = "user names in URLs are not supported";
    return std::nullopt;
  }
  if (!parse_authority(authority, url.scheme.empty(), url, error)) return std::nullopt;
  if (slash != std::string_view::npos) {
    if (url.scheme.empty()) {
      error = "a path needs the https:// form";
      return std::nullopt;
    }
    std::string_view path = rest.substr(slash);
    path = path.substr(0, path.find('#'));
    for (char c : path) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
        error = "the path contains a space or control character (percent-encode it)";
        return std::nullopt;
      }
    }
    url.path = std::string(path);
  }
  return url;
}

std::string file_name_for(std::string_view path) {
  path = path.substr(0, path.find('?'));
  const auto slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return "index.html";
  return std::string(name);
}

std::vector<SocketAddress> resolve_host(const std::string& host, std::uint16_t port, std::string& error) {
  if (auto ip = SocketAddress::parse_ip(host, port)) return {*ip};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    error = "cannot resolve '" + host + "': " + gai_strerror(rc);
    return {};
  }
  std::vector<SocketAddress> out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    auto a = SocketAddress::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    if (a && std::find(out.begin(), out.end(), a->with_port(port)) == out.end()) out.push_back(a->with_port(port));
  }
  freeaddrinfo(res);
  std::stable_partition(out.begin(), out.end(), [](const SocketAddress& a) { return a.is_ipv4(); });
  if (out.empty()) error = "'" + host + "' has no IPv4 or IPv6 address";
  return out;
}

}  // namespace roam::apps
