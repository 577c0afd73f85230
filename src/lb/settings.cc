#include "lb/settings.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace roam::lb {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits on spaces and tabs.
std::vector<std::string_view> words_of(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

ConfigResult<std::size_t> parse_number(std::string_view name, std::string_view value, std::size_t max) {
  std::size_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || v > max) {
    return ConfigError{std::string(name) + "=" + std::string(value) + " is not a number in 0.." + std::to_string(max)};
  }
  return v;
}

ConfigResult<bool> parse_bool(std::string_view name, std::string_view value) {
  if (value == "yes" || value == "true" || value == "1") return true;
  if (value == "no" || value == "false" || value == "0") return false;
  return ConfigError{std::string(name) + "=" + std::string(value) + " wants yes or no"};
}

}  // namespace

ConfigResult<Backend> parse_backend(std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) {
    return ConfigError{"backend '" + std::string(spec) + "' wants ID=ADDR:PORT (e.g. 0a01=192.0.2.10:4433)"};
  }
  auto id = parse_hex(spec.substr(0, eq), "backend ID");
  if (!id) return id.error();
  if (id->size() > kMaxServerIdLen) {
    return ConfigError{"backend ID '" + std::string(spec.substr(0, eq)) + "' is longer than 15 octets"};
  }
  auto addr = SocketAddress::parse(spec.substr(eq + 1));
  if (!addr || addr->port() == 0 || addr->is_unspecified()) {
    return ConfigError{"backend address '" + std::string(spec.substr(eq + 1)) +
                       "' wants a numeric ADDR:PORT with a port (e.g. 192.0.2.10:4433 or [2001:db8::1]:4433)"};
  }
  return Backend{ServerId(Bytes(id->data(), id->size())), *addr};
}

ConfigResult<Config> parse_config_words(std::string_view text) {
  Config c;
  bool have_id = false, have_sid = false, have_nonce = false;
  for (std::string_view w : words_of(text)) {
    const auto eq = w.find('=');
    if (eq == std::string_view::npos) {
      return ConfigError{"config: '" + std::string(w) + "' is not NAME=VALUE"};
    }
    const std::string_view name = w.substr(0, eq);
    const std::string_view value = w.substr(eq + 1);
    if (name == "id") {
      auto v = parse_number(name, value, 255);
      if (!v) return v.error();
      c.id = static_cast<std::uint8_t>(*v);
      have_id = true;
    } else if (name == "server-id-len") {
      auto v = parse_number(name, value, 255);
      if (!v) return v.error();
      c.server_id_len = *v;
      have_sid = true;
    } else if (name == "nonce-len") {
      auto v = parse_number(name, value, 255);
      if (!v) return v.error();
      c.nonce_len = *v;
      have_nonce = true;
    } else if (name == "key") {
      auto k = parse_key(value);
      if (!k) return k.error();
      c.key = *k;
    } else if (name == "encode-length") {
      auto b = parse_bool(name, value);
      if (!b) return b.error();
      c.encode_length = *b;
    } else {
      return ConfigError{"config: unknown setting '" + std::string(name) +
                         "' (id, server-id-len, nonce-len, key, encode-length)"};
    }
  }
  if (!have_id || !have_sid || !have_nonce) {
    return ConfigError{"config: id=, server-id-len= and nonce-len= are required"};
  }
  if (auto ok = validate(c); !ok) return ConfigError{"config " + std::to_string(c.id) + ": " + ok.error().message};
  return c;
}

ConfigResult<Settings> parse_settings(std::string_view text) {
  Settings s;
  bool have_fallback_key = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const auto words = words_of(line);
    const std::string_view verb = words[0];
    const std::string_view rest = trim(line.substr(verb.size()));
    auto fail = [&](const std::string& msg) { return ConfigError{"line " + std::to_string(line_no) + ": " + msg}; };
    if (verb == "config") {
      auto c = parse_config_words(rest);
      if (!c) return fail(c.error().message);
      s.configs.push_back(*c);
    } else if (verb == "backend") {
      if (words.size() != 2) return fail("backend wants one ID=ADDR:PORT");
      auto b = parse_backend(words[1]);
      if (!b) return fail(b.error().message);
      s.backends.push_back(*b);
    } else if (verb == "fallback-key") {
      if (words.size() != 2) return fail("fallback-key wants one 16-octet hex key");
      if (have_fallback_key) return fail("fallback-key given twice");
      auto k = parse_key(words[1]);
      if (!k) return fail(k.error().message);
      std::copy(k->begin(), k->end(), s.fallback_key.begin());
      have_fallback_key = true;
    } else {
      return fail("unknown statement '" + std::string(verb) + "' (config, backend, fallback-key)");
    }
  }
  return s;
}

ConfigResult<Settings> load_settings(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ConfigError{path + ": cannot open"};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return ConfigError{path + ": cannot read"};
  auto s = parse_settings(text.str());
  if (!s) {
    const std::string& m = s.error().message;
    // "line N: ..." becomes "PATH:N: ..."
    if (m.rfind("line ", 0) == 0) return ConfigError{path + ":" + m.substr(5)};
    return ConfigError{path + ": " + m};
  }
  return s;
}

ConfigStatus check(const Settings& s) {
  for (std::size_t i = 0; i < s.configs.size(); ++i) {
    if (auto ok = validate(s.configs[i]); !ok) return ok.error();
    for (std::size_t j = 0; j < i; ++j) {
      if (s.configs[i].id == s.configs[j].id) {
        return ConfigError{"config ID " + std::to_string(s.configs[i].id) + " is defined twice"};
      }
    }
  }
  for (std::size_t i = 0; i < s.backends.size(); ++i) {
    const Backend& b = s.backends[i];
    if (b.id.empty()) return ConfigError{"a backend has an empty ID"};
    bool fits = s.configs.empty();  // without configs every CID is unroutable; IDs are only names
    for (const Config& c : s.configs) fits = fits || b.id.size() <= c.server_id_len;
    if (!fits) {
      return ConfigError{"backend " + b.id.hex() + " is longer than the server ID of every config"};
    }
    for (std::size_t j = 0; j < i; ++j) {
      const Backend& o = s.backends[j];
      const std::size_t n = std::min(b.id.size(), o.id.size());
      if (std::equal(b.id.data(), b.id.data() + n, o.id.data())) {
        return ConfigError{b.id.size() == o.id.size()
                               ? "backend ID " + b.id.hex() + " is given twice"
                               : "backend IDs " + o.id.hex() + " and " + b.id.hex() +
                                     " overlap (one is a prefix of the other)"};
      }
      if (b.address == o.address) {
        return ConfigError{"backends " + o.id.hex() + " and " + b.id.hex() + " have the same address " +
                           b.address.to_string()};
      }
    }
  }
  return {};
}

}  // namespace roam::lb
