#include "url.h"

#include <gtest/gtest.h>

namespace roam::apps {
namespace {

struct UrlCase {
  const char* text;
  const char* host;
  std::uint16_t port;
  const char* path;
  const char* authority;
};

TEST(Url, ParsesTheFormsUsersWrite) {
  const UrlCase cases[] = {
      {"https://example.com/a/b.txt", "example.com", 443, "/a/b.txt", "example.com:443"},
      {"https://example.com", "example.com", 443, "/", "example.com:443"},
      {"HTTPS://localhost:4433/x?y=1#frag", "localhost", 4433, "/x?y=1", "localhost:4433"},
      {"https://127.0.0.1:4433/", "127.0.0.1", 4433, "/", "127.0.0.1:4433"},
      {"https://[::1]:4433/f", "::1", 4433, "/f", "[::1]:4433"},
      {"https://[::1]/f", "::1", 443, "/f", "[::1]:443"},
      {"127.0.0.1:4433", "127.0.0.1", 4433, "/", "127.0.0.1:4433"},
      {"[::1]:4433", "::1", 4433, "/", "[::1]:4433"},
      {"https://h/../etc/passwd", "h", 443, "/../etc/passwd", "h:443"},  // sent as written
  };
  for (const auto& c : cases) {
    std::string error;
    auto u = parse_url(c.text, error);
    ASSERT_TRUE(u) << c.text << ": " << error;
    EXPECT_EQ(u->host, c.host) << c.text;
    EXPECT_EQ(u->port, c.port) << c.text;
    EXPECT_EQ(u->path, c.path) << c.text;
    EXPECT_EQ(u->authority(), c.authority) << c.text;
  }
}

TEST(Url, RejectsWithAReason) {
  const char* bad[] = {"not-an-address",     "http://h/x",         "https://h:0/",      "https://h:65536/",
                       "https://h:12x/",     "https://::1/x",      "https://[::1/x",    "https://[nothex]:1/",
                       "https://u@h/",       "https:///x",         "https://h/a b",     "h:1/path",
                       "https://h\x01/x",   "https://[::1]x:1/"};
  for (const char* text : bad) {
    std::string error;
    EXPECT_FALSE(parse_url(text, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(Url, ToStringRoundTrips) {
  std::string error;
  auto u = parse_url("https://[::1]:4433/a?b", error);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->to_string(), "https://[::1]:4433/a?b");
  auto bare = parse_url("10.0.0.1:99", error);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->to_string(), "https://10.0.0.1:99/");
}

TEST(Url, FileNameForDownloads) {
  EXPECT_EQ(file_name_for("/a/b.txt"), "b.txt");
  EXPECT_EQ(file_name_for("/b.txt?x=1"), "b.txt");
  EXPECT_EQ(file_name_for("/"), "index.html");
  EXPECT_EQ(file_name_for("/dir/"), "index.html");
  EXPECT_EQ(file_name_for("/dir/.."), "index.html");
  EXPECT_EQ(file_name_for("/dir/."), "index.html");
}

TEST(Url, ResolvesLiteralsAndLocalhost) {
  std::string error;
  auto v4 = resolve_host("127.0.0.1", 4433, error);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].to_string(), "127.0.0.1:4433");
  auto v6 = resolve_host("::1", 4433, error);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].to_string(), "[::1]:4433");
  auto local = resolve_host("localhost", 443, error);
  ASSERT_FALSE(local.empty()) << error;
  EXPECT_TRUE(local[0].is_loopback());
  EXPECT_TRUE(local[0].is_ipv4());  // IPv4 first: servers listen on 0.0.0.0 by default
  EXPECT_TRUE(resolve_host("no-such-host.invalid", 443, error).empty());
  EXPECT_NE(error.find("cannot resolve"), std::string::npos);
}

}  // namespace
}  // namespace roam::apps
