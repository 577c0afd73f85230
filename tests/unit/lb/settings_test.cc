// Parsing of the load balancer's settings file and --backend values, and the whole-set checks.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "lb/settings.h"

namespace roam::lb {
namespace {

TEST(LbSettings, ParsesAFile) {
  auto s = parse_settings(
      "# two configs during a rotation\n"
      "config id=0 server-id-len=3 nonce-len=4 key=8f95f09245765f80256934e50c66207f\n"
      "\n"
      "  config id=1 server-id-len=3 nonce-len=8 encode-length=no   # plaintext\n"
      "backend 0a01=192.0.2.10:4433\r\n"
      "backend 0b02=[2001:db8::2]:4433\n"
      "fallback-key 00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f\n");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->configs.size(), 2u);
  EXPECT_EQ(s->configs[0].id, 0);
  EXPECT_EQ(s->configs[0].server_id_len, 3u);
  EXPECT_EQ(s->configs[0].nonce_len, 4u);
  ASSERT_TRUE(s->configs[0].key.has_value());
  EXPECT_EQ(to_hex(*s->configs[0].key), "8f95f09245765f80256934e50c66207f");
  EXPECT_TRUE(s->configs[0].encode_length);
  EXPECT_EQ(s->configs[1].id, 1);
  EXPECT_FALSE(s->configs[1].key.has_value());
  EXPECT_FALSE(s->configs[1].encode_length);
  ASSERT_EQ(s->backends.size(), 2u);
  EXPECT_EQ(s->backends[0].id.hex(), "0a01");
  EXPECT_EQ(s->backends[0].address.to_string(), "192.0.2.10:4433");
  EXPECT_EQ(s->backends[1].address.to_string(), "[2001:db8::2]:4433");
  EXPECT_EQ(to_hex(s->fallback_key), "000102030405060708090a0b0c0d0e0f");
  EXPECT_TRUE(check(*s).ok());
}

TEST(LbSettings, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* message;  // a substring of the error
  };
  const Case cases[] = {
      {"config id=0 server-id-len=3\n", "line 1: config: id=, server-id-len= and nonce-len= are required"},
      {"\n\nconfig id=0 server-id-len=3 nonce-len=4 colour=red\n", "line 3: config: unknown setting 'colour'"},
      {"config id=7 server-id-len=3 nonce-len=4\n", "line 1: config 7: config ID 7 is out of range"},
      {"config id=0 server-id-len=16 nonce-len=4\n", "server ID length 16 is out of range"},
      {"config id=0 server-id-len=3 nonce-len=3\n", "nonce length 3 is out of range"},
      {"config id=0 server-id-len=10 nonce-len=10\n", "must sum to 19 or less"},
      {"config id=0 server-id-len=x nonce-len=4\n", "server-id-len=x is not a number"},
      {"config id=0 server-id-len=3 nonce-len=4 key=0011\n", "has 2 octets; AES-128 wants 16"},
      {"config id=0 server-id-len=3 nonce-len=4 key=zz\n", "is not hex (an even number of digits"},
      {"config id=0 server-id-len=3 nonce-len=4 encode-length=maybe\n", "wants yes or no"},
      {"config id=0 server-id-len=3 nonce-len=4 id\n", "'id' is not NAME=VALUE"},
      {"backend 0a01\n", "line 1: backend '0a01' wants ID=ADDR:PORT"},
      {"backend 0a01=localhost:4433\n", "wants a numeric ADDR:PORT"},
      {"backend 0a01=192.0.2.1:0\n", "wants a numeric ADDR:PORT"},
      {"backend 0a01=192.0.2.1:1 extra\n", "backend wants one ID=ADDR:PORT"},
      {"backend 000102030405060708090a0b0c0d0e0f=192.0.2.1:1\n", "longer than 15 octets"},
      {"fallback-key 00\n", "AES-128 wants 16"},
      {"fallback-key 000102030405060708090a0b0c0d0e0f\nfallback-key 000102030405060708090a0b0c0d0e0f\n",
       "line 2: fallback-key given twice"},
      {"frobnicate\n", "line 1: unknown statement 'frobnicate'"},
  };
  for (const Case& c : cases) {
    auto s = parse_settings(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.error().message.find(c.message), std::string::npos) << s.error().message;
  }
}

TEST(LbSettings, CheckRejectsInconsistentSets) {
  auto parse = [](const char* text) {
    auto s = parse_settings(text);
    EXPECT_TRUE(s.ok()) << text;
    return s.ok() ? *s : Settings{};
  };
  const char* base = "config id=0 server-id-len=3 nonce-len=4\n";
  struct Case {
    std::string extra;
    const char* message;
  };
  const Case cases[] = {
      {"config id=0 server-id-len=2 nonce-len=5\n", "config ID 0 is defined twice"},
      {"backend 0a01=192.0.2.1:1\nbackend 0a01=192.0.2.2:1\n", "backend ID 0a01 is given twice"},
      {"backend 0a=192.0.2.1:1\nbackend 0a01=192.0.2.2:1\n", "overlap"},
      {"backend 0a01=192.0.2.1:1\nbackend 0b01=192.0.2.1:1\n", "the same address"},
      {"backend 0a01020304=192.0.2.1:1\n", "longer than the server ID of every config"},
  };
  for (const Case& c : cases) {
    auto s = parse((base + c.extra).c_str());
    auto ok = check(s);
    ASSERT_FALSE(ok.ok()) << c.extra;
    EXPECT_NE(ok.error().message.find(c.message), std::string::npos) << ok.error().message;
  }
  EXPECT_TRUE(check(parse("config id=0 server-id-len=3 nonce-len=4\nbackend 0a01=192.0.2.1:1\n"
                          "backend 0b=192.0.2.2:1\nbackend 0c0102=192.0.2.3:1\n"))
                  .ok());
}

TEST(LbSettings, BackendSpec) {
  auto b = parse_backend("0x0A:01=127.0.0.1:9");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->id.hex(), "0a01");
  EXPECT_EQ(b->address.to_string(), "127.0.0.1:9");
  EXPECT_FALSE(parse_backend("=127.0.0.1:9").ok());
  EXPECT_FALSE(parse_backend("0a1=127.0.0.1:9").ok());
  EXPECT_FALSE(parse_backend("0a01=0.0.0.0:9").ok());
  EXPECT_FALSE(parse_backend("0a01=127.0.0.1").ok());
  EXPECT_FALSE(parse_backend("").ok());
}

TEST(LbSettings, LoadFileNamesThePath) {
  const std::string path = ::testing::TempDir() + "/roam_lb_settings_test.conf";
  {
    std::ofstream out(path);
    out << "config id=2 server-id-len=2 nonce-len=6\n"
        << "backend 0a01=127.0.0.1:5000\n"
        << "bogus\n";
  }
  auto s = load_settings(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, path + ":3: unknown statement 'bogus' (config, backend, fallback-key)");
  {
    std::ofstream out(path);
    out << "config id=2 server-id-len=2 nonce-len=6\nbackend 0a01=127.0.0.1:5000\n";
  }
  s = load_settings(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->configs.size(), 1u);
  std::remove(path.c_str());
  s = load_settings(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, path + ": cannot open");
}

}  // namespace
}  // namespace roam::lb
