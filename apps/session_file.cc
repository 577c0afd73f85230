#include "session_file.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace roam::apps {

namespace {

constexpr std::string_view kMagic = "roam-session 2\n";
constexpr std::size_t kMaxBlob = 1 << 20;

void put_blob(std::string& out, const std::vector<std::uint8_t>& b) {
  const auto n = static_cast<std::uint32_t>(b.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(b.begin(), b.end());
}

bool get_blob(const std::string& in, std::size_t& off, std::vector<std::uint8_t>& b) {
  if (in.size() - off < 4) return false;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = n << 8 | static_cast<std::uint8_t>(in[off + static_cast<std::size_t>(i)]);
  off += 4;
  if (n > kMaxBlob || in.size() - off < n) return false;
  b.assign(in.begin() + static_cast<std::ptrdiff_t>(off), in.begin() + static_cast<std::ptrdiff_t>(off + n));
  off += n;
  return true;
}

}  // namespace

std::optional<conn::ResumptionState> load_session_file(const std::string& path, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  const std::string in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  conn::ResumptionState s;
  std::vector<std::uint8_t> alpn;
  std::size_t off = kMagic.size();
  if (in.compare(0, kMagic.size(), kMagic) != 0 || !get_blob(in, off, s.tls_session) ||
      !get_blob(in, off, s.transport_params) || !get_blob(in, off, s.token) || !get_blob(in, off, alpn) ||
      off != in.size()) {
    error = path + " is not a roam session file";
    return std::nullopt;
  }
  s.alpn.assign(alpn.begin(), alpn.end());
  return s;
}

bool save_session_file(const std::string& path, const conn::ResumptionState& state, std::string& error) {
  std::string out(kMagic);
  put_blob(out, state.tls_session);
  put_blob(out, state.transport_params);
  put_blob(out, state.token);
  put_blob(out, std::vector<std::uint8_t>(state.alpn.begin(), state.alpn.end()));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(out.data(), static_cast<std::streamsize>(out.size()))) {
      error = "cannot write " + tmp;
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace roam::apps
