// SSLKEYLOGFILE output: NSS key log lines with the client random and the secrets TLS installed.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "tls/session.h"
#include "tls_test_util.h"

extern char** environ;

namespace roam::tls {
namespace {

using testing::client_context;
using testing::make_pair;
using testing::Pair;
using testing::server_context;
using testing::TempDir;

struct KeylogLine {
  std::string label;
  std::string client_random;
  std::string secret;
};

std::vector<KeylogLine> read_keylog(const std::string& path) {
  std::vector<KeylogLine> lines;
  std::ifstream in(path);
  std::string text;
  while (std::getline(in, text)) {
    std::istringstream ss(text);
    KeylogLine l;
    std::string extra;
    ss >> l.label >> l.client_random >> l.secret;
    EXPECT_FALSE(ss >> extra) << "unexpected field in: " << text;
    lines.push_back(l);
  }
  return lines;
}

// The ClientHello's random: after the 4-byte handshake header and the 2-byte legacy_version.
std::string client_random_of(const std::vector<std::uint8_t>& client_hello) {
  EXPECT_GE(client_hello.size(), 38u);
  return to_hex(Bytes(client_hello).subspan(6, 32));
}

const std::vector<std::string> kTrafficLabels = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};

// Runs a handshake; returns the client random (hex) from the ClientHello on the wire.
std::string handshake(Pair& p) {
  EXPECT_TRUE(p.client.session->start());
  Level level;
  std::vector<std::uint8_t> hello;
  EXPECT_TRUE(p.client.session->take_output(level, hello));
  EXPECT_TRUE(p.server.session->provide_data(Level::kInitial, hello));
  EXPECT_TRUE(p.finish());
  return client_random_of(hello);
}

// The traffic secret lines, by label, checking they appear once each.
std::map<std::string, KeylogLine> traffic_lines(const std::vector<KeylogLine>& lines) {
  std::map<std::string, KeylogLine> by_label;
  for (const auto& l : lines) {
    if (std::find(kTrafficLabels.begin(), kTrafficLabels.end(), l.label) == kTrafficLabels.end()) {
      // Only the exporter secret may come in addition; QUIC does not use it but it is harmless.
      EXPECT_EQ(l.label, "EXPORTER_SECRET");
      continue;
    }
    EXPECT_TRUE(by_label.emplace(l.label, l).second) << "duplicate " << l.label;
  }
  return by_label;
}

TEST(TlsKeylog, ClientWritesTheFourTrafficSecrets) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  ClientOptions co;
  co.keylog_file = dir.file("keys.log");
  Pair p = make_pair(client_context(std::move(co)), server_context());
  const std::string random = handshake(p);

  const auto lines = read_keylog(dir.file("keys.log"));
  const auto by_label = traffic_lines(lines);
  ASSERT_EQ(by_label.size(), 4u);
  for (const auto& l : lines) EXPECT_EQ(l.client_random, random) << l.label;

  auto secret_hex = [&](Level level, Direction dir_) {
    const SecretEvent* ev = p.client.find(level, dir_);
    EXPECT_NE(ev, nullptr);
    return ev ? to_hex(ev->secret) : std::string();
  };
  EXPECT_EQ(by_label.at("CLIENT_HANDSHAKE_TRAFFIC_SECRET").secret,
            secret_hex(Level::kHandshake, Direction::kWrite));
  EXPECT_EQ(by_label.at("SERVER_HANDSHAKE_TRAFFIC_SECRET").secret,
            secret_hex(Level::kHandshake, Direction::kRead));
  EXPECT_EQ(by_label.at("CLIENT_TRAFFIC_SECRET_0").secret,
            secret_hex(Level::kApplication, Direction::kWrite));
  EXPECT_EQ(by_label.at("SERVER_TRAFFIC_SECRET_0").secret,
            secret_hex(Level::kApplication, Direction::kRead));

  struct stat st {};
  ASSERT_EQ(::stat(dir.file("keys.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(TlsKeylog, ServerWritesTheSameLines) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  ServerOptions so;
  so.keylog_file = dir.file("server.log");
  Pair p = make_pair(client_context(), server_context(std::move(so)));
  const std::string random = handshake(p);
  const auto lines = read_keylog(dir.file("server.log"));
  const auto by_label = traffic_lines(lines);
  ASSERT_EQ(by_label.size(), 4u);
  for (const auto& l : lines) EXPECT_EQ(l.client_random, random);
  EXPECT_EQ(by_label.at("SERVER_TRAFFIC_SECRET_0").secret,
            to_hex(p.server.find(Level::kApplication, Direction::kWrite)->secret));
}

TEST(TlsKeylog, AppendsAcrossConnectionsAndContexts) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("keys.log");
  std::string randoms[2];
  for (auto& random : randoms) {
    ClientOptions co;
    co.keylog_file = path;
    Pair p = make_pair(client_context(std::move(co)), server_context());
    random = handshake(p);
  }
  ASSERT_NE(randoms[0], randoms[1]);
  const auto lines = read_keylog(path);
  std::map<std::string, int> per_random;
  for (const auto& l : lines) {
    if (l.label != "EXPORTER_SECRET") ++per_random[l.client_random];
  }
  EXPECT_EQ(per_random[randoms[0]], 4);
  EXPECT_EQ(per_random[randoms[1]], 4);
}

TEST(TlsKeylog, UnwritableKeylogFileIsAnError) {
  ClientOptions co;
  co.alpn = {"h3"};
  co.insecure_skip_verify = true;
  co.keylog_file = "/nonexistent-dir/keys.log";
  auto ctx = TlsContext::create_client(co);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().code, TransportError::kInternalError);
}

// GnuTLS has its own $SSLKEYLOGFILE writer, which reads the variable once per process. The
// parent test re-runs this binary with SSLKEYLOGFILE set and our key log pointed at the same
// file; the child (ROAM_TLS_KEYLOG_CHILD set) handshakes. Each line must appear exactly once.
TEST(TlsKeylog, GnuTlsDoesNotWriteDuplicateLines) {
  if (const char* child = std::getenv("ROAM_TLS_KEYLOG_CHILD"); child != nullptr) {
    ClientOptions co;
    co.keylog_file = std::getenv("SSLKEYLOGFILE");
    Pair p = make_pair(client_context(std::move(co)), server_context());
    ASSERT_TRUE(p.run());
    return;
  }
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.file("env.log");
  std::vector<std::string> env_strings = {"SSLKEYLOGFILE=" + path, "ROAM_TLS_KEYLOG_CHILD=1"};
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view v(*e);
    if (!v.starts_with("SSLKEYLOGFILE=") && !v.starts_with("ROAM_TLS_KEYLOG_CHILD=")) {
      env_strings.emplace_back(v);
    }
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  std::string filter = "--gtest_filter=TlsKeylog.GnuTlsDoesNotWriteDuplicateLines";
  std::string quiet = "--gtest_brief=1";
  char* argv[] = {exe.data(), filter.data(), quiet.data(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, envp.data()), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  const auto lines = read_keylog(path);
  const auto by_label = traffic_lines(lines);  // flags duplicates
  EXPECT_EQ(by_label.size(), 4u);
  EXPECT_LE(lines.size(), 5u);
}

}  // namespace
}  // namespace roam::tls
