// URLs as roam-client takes them on its command line, and host name resolution. The library only
// ever sees numeric addresses: names are resolved here, in the application.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/socket_address.h"

namespace roam::apps {

struct Url {
  std::string scheme;  // "https"; empty for the bare HOST:PORT form
  std::string host;    // a name or an IP literal, without brackets
  std::uint16_t port = 443;
  std::string path = "/";  // the request target: always starts with '/', query kept, fragment dropped

  // "host:port" ("[::1]:port" for IPv6 literals): the key that groups URLs onto one connection.
  std::string authority() const;
  std::string to_string() const;
};

// Accepts "https://host[:port][/path]" (IPv6 literals in brackets) and, for compatibility with
// earlier releases, a bare "HOST:PORT" meaning "https://HOST:PORT/". On failure returns nullopt and
// sets `error` to a one-line explanation.
std::optional<Url> parse_url(std::string_view text, std::string& error);

// The last path segment, as a download file name: "/a/b.txt" -> "b.txt"; "/" or "/dir/" ->
// "index.html". Query strings are cut off. Never returns "", "." or "..".
std::string file_name_for(std::string_view path);

// Resolves a host name or IP literal with getaddrinfo (UDP). IPv4 addresses come first: servers
// listen on 0.0.0.0 by default, so "localhost" should reach them. On failure returns an empty
// vector and sets `error`.
std::vector<SocketAddress> resolve_host(const std::string& host, std::uint16_t port, std::string& error);

}  // namespace roam::apps
