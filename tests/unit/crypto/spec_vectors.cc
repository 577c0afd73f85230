#include "spec_vectors.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace roam::crypto::testing {

namespace {

bool is_hex_token(std::string_view t) {
  if (t.empty() || t.size() % 2 != 0) return false;
  for (char c : t) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Next line of `text` starting at `pos` (without the newline); advances pos past it.
std::string_view next_line(std::string_view text, std::size_t& pos) {
  const std::size_t end = text.find('\n', pos);
  std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
  pos = end == std::string_view::npos ? text.size() : end + 1;
  return line;
}

}  // namespace

const std::string& rfc9001_vectors() {
  static const std::string text = [] {
    std::ifstream in(std::string(ROAM_SPECS_DIR) + "/rfc9001-test-vectors.md");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  return text;
}

std::string_view section(std::string_view text, std::string_view title) {
  const std::string heading = "\n## " + std::string(title) + "\n";
  const std::size_t start = text.find(heading);
  if (start == std::string_view::npos) return {};
  const std::size_t end = text.find("\n## ", start + heading.size());
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

ByteVec value_after(std::string_view text, std::string_view anchor, char sep) {
  std::size_t pos = text.find(anchor);
  if (pos == std::string_view::npos) return {};
  pos += anchor.size();
  while (true) {
    pos = text.find(sep, pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
    std::size_t p = pos;
    std::string_view rest = trim(next_line(text, p));
    const std::string_view token = rest.substr(0, rest.find(' '));
    if (!is_hex_token(token) || token.size() != rest.size()) continue;
    std::string digits(token);
    while (p < text.size()) {
      std::size_t q = p;
      const std::string_view cont = trim(next_line(text, q));
      if (!is_hex_token(cont)) break;
      digits += cont;
      p = q;
    }
    return hex(digits);
  }
}

ByteVec block_after(std::string_view text, std::string_view anchor) {
  std::size_t pos = text.find(anchor);
  if (pos == std::string_view::npos) return {};
  pos = text.find("\n~~~", pos);
  if (pos == std::string_view::npos) return {};
  pos = text.find('\n', pos + 1);
  const std::size_t end = text.find("\n~~~", pos);
  if (pos == std::string_view::npos || end == std::string_view::npos) return {};
  return hex(text.substr(pos, end - pos));
}

ByteVec hex(std::string_view s) {
  std::string digits;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    digits += c;
  }
  if (digits.size() % 2 != 0) return {};
  ByteVec out;
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string to_hex(const ByteVec& v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (auto b : v) {
    s += kDigits[b >> 4];
    s += kDigits[b & 0xf];
  }
  return s;
}

}  // namespace roam::crypto::testing
