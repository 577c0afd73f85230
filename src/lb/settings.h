// What a load balancer is told: its QUIC-LB configurations (several, by config rotation
// codepoint), its backends (server ID -> address) and the key of its fallback hash. Parsed from a
// small line-based file and from --backend options; every mistake is one line naming the place.
//
// File format, one statement per line, '#' starts a comment:
//
//   config id=0 server-id-len=3 nonce-len=4 key=8f95f09245765f80256934e50c66207f
//   config id=1 server-id-len=3 nonce-len=8 encode-length=no     # no key: plaintext
//   backend 0a01=192.0.2.10:4433                                   # server (host) ID = ADDR:PORT
//   fallback-key 000102030405060708090a0b0c0d0e0f
//
// A backend ID may be shorter than a config's server ID: it then names every server ID that
// starts with it (the rest is the worker field of RoutableCidGenerator).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/socket_address.h"
#include "lb/config.h"
#include "lb/siphash.h"

namespace roam::lb {

struct Backend {
  ServerId id;
  SocketAddress address;
};

struct Settings {
  std::vector<Config> configs;
  std::vector<Backend> backends;
  SipKey fallback_key{};
};

// "ID=ADDR:PORT", ID in hex (1..15 octets), ADDR numeric ("[::1]:4433" for IPv6).
ConfigResult<Backend> parse_backend(std::string_view spec);
// "config ..." statement words after "config": id=, server-id-len=, nonce-len=, key=, encode-length=.
ConfigResult<Config> parse_config_words(std::string_view words);

// Parses the file format above. Errors read "line N: ...". Does not run check().
ConfigResult<Settings> parse_settings(std::string_view text);
// Reads and parses a file; errors read "PATH: ..." or "PATH:N: ...".
ConfigResult<Settings> load_settings(const std::string& path);

// Whole-set rules: config IDs distinct, backend IDs distinct and none a prefix of another (a
// server ID must name one backend), each backend ID no longer than some config's server ID,
// backend addresses distinct (replies are recognised by their source address).
ConfigStatus check(const Settings& settings);

}  // namespace roam::lb
