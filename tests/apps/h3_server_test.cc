// roam-server's HTTP/3 decisions (status codes, fields) and the sites it serves from.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "h3_server.h"
#include "site.h"
#include "www_files.h"

namespace roam::apps {
namespace {

namespace fs = std::filesystem;

std::string read_all(Resource& r) {
  std::string out;
  std::vector<std::uint8_t> buf(7);  // small on purpose: several reads at advancing offsets
  for (std::uint64_t off = 0;;) {
    auto n = r.read_at(off, buf);
    EXPECT_TRUE(n.has_value());
    if (!n || *n == 0) break;
    out.append(reinterpret_cast<const char*>(buf.data()), *n);
    off += *n;
  }
  return out;
}

TEST(TargetSegments, SplitsAndDecodes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(target_segments("/a/b.txt"), (V{"a", "b.txt"}));
  EXPECT_EQ(target_segments("/a%20b/c?x=1/../y"), (V{"a b", "c"}));
  EXPECT_EQ(target_segments("//a/./b"), (V{"a", "b"}));
  EXPECT_EQ(target_segments("/"), (V{"index.html"}));
  EXPECT_EQ(target_segments("/dir/"), (V{"dir", "index.html"}));
  EXPECT_EQ(target_segments("/dir/."), (V{"dir", "index.html"}));
  EXPECT_EQ(target_segments("/dir//"), (V{"dir", "index.html"}));
}

TEST(TargetSegments, RefusesMalformedTargets) {
  for (const char* t : {"", "a", "*", "/..", "/a/../b", "/%2e%2e/x", "/a%2F..%2Fb", "/%00", "/%zz", "/%4", "/a%"}) {
    EXPECT_FALSE(target_segments(t).has_value()) << t;
  }
}

TEST(ContentType, ByExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("A.PNG"), "image/png");
  EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("blob"), "application/octet-stream");
  EXPECT_EQ(content_type_for("x.tar.gz"), "application/octet-stream");
}

TEST(BuiltinSite, HasThePageAndEveryAssetItReferences) {
  auto site = make_builtin_site();
  auto index = site->find("/");
  ASSERT_EQ(index.status, LookupStatus::kFound);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  const std::string html = read_all(*index.resource);
  EXPECT_NE(html.find("<html"), std::string::npos);
  for (const char* asset : {"/style.css", "/app.js", "/roam.png"}) {
    EXPECT_NE(html.find(std::string("\"") + asset + "\""), std::string::npos) << asset << " not referenced";
    auto l = site->find(asset);
    ASSERT_EQ(l.status, LookupStatus::kFound) << asset;
    EXPECT_GT(l.resource->size(), 0u) << asset;
  }
  auto png = site->find("/roam.png");
  const std::string bytes = read_all(*png.resource);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(site->find("/index.html").resource->size(), index.resource->size());
  EXPECT_EQ(site->find("/nope.txt").status, LookupStatus::kNotFound);
  EXPECT_EQ(site->find("/../index.html").status, LookupStatus::kBadRequest);
}

TEST(BuiltinSite, MatchesTheWwwDirectory) {
  // The compiled-in copy is www/ byte for byte.
  auto site = make_builtin_site();
  ASSERT_GT(www::kFileCount, 0u);
  for (std::size_t i = 0; i < www::kFileCount; ++i) {
    const fs::path p = fs::path(ROAM_SOURCE_DIR) / "www" / www::kFiles[i].path;
    std::ifstream in(p, std::ios::binary);
    ASSERT_TRUE(in) << p;
    const std::string disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto l = site->find(std::string("/") + www::kFiles[i].path);
    ASSERT_EQ(l.status, LookupStatus::kFound) << p;
    EXPECT_EQ(read_all(*l.resource), disk) << p;
  }
}

class SiteFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("roam-h3-site-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    root_ = base_ / "root";
    fs::create_directories(root_ / "sub");
    fs::create_directories(root_ / "empty-dir");
    std::ofstream(root_ / "index.html") << "<p>home</p>";
    std::ofstream(root_ / "sub" / "index.html") << "<p>sub</p>";
    std::ofstream(root_ / "sub" / "data.bin") << "0123456789";
    std::ofstream(base_ / "secret.txt") << "s";
    fs::create_symlink("../secret.txt", root_ / "out-link");
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_, root_;
};

TEST_F(SiteFiles, DirectorySiteServesFilesAndIndexes) {
  auto site = make_directory_site(root_);
  auto l = site->find("/sub/data.bin");
  ASSERT_EQ(l.status, LookupStatus::kFound);
  EXPECT_EQ(read_all(*l.resource), "0123456789");
  EXPECT_EQ(l.content_type, "application/octet-stream");
  EXPECT_EQ(read_all(*site->find("/").resource), "<p>home</p>");
  EXPECT_EQ(read_all(*site->find("/sub/").resource), "<p>sub</p>");
  EXPECT_EQ(site->find("/sub").status, LookupStatus::kNotFound);  // a directory is not a file
  EXPECT_EQ(site->find("/empty-dir/").status, LookupStatus::kNotFound);
  EXPECT_EQ(site->find("/out-link").status, LookupStatus::kNotFound);
  EXPECT_EQ(site->find("/../secret.txt").status, LookupStatus::kBadRequest);
  EXPECT_EQ(site->find("/sub/%2e%2e/%2e%2e/secret.txt").status, LookupStatus::kBadRequest);
}

TEST_F(SiteFiles, AnswersRequests) {
  auto site = make_directory_site(root_);
  h3::Request get;
  get.authority = "localhost";
  get.path = "/sub/data.bin";
  H3Answer a = answer_request(*site, get);
  EXPECT_EQ(a.response.status, 200);
  ASSERT_NE(h3::find_field(a.response.fields, "content-length"), nullptr);
  EXPECT_EQ(*h3::find_field(a.response.fields, "content-length"), "10");
  ASSERT_NE(a.body, nullptr);

  get.path = "/missing";
  a = answer_request(*site, get);
  EXPECT_EQ(a.response.status, 404);
  EXPECT_EQ(a.body, nullptr);
  EXPECT_EQ(a.error_body, "404 Not Found\n");
  EXPECT_EQ(*h3::find_field(a.response.fields, "content-length"), std::to_string(a.error_body.size()));

  get.path = "/../secret.txt";
  EXPECT_EQ(answer_request(*site, get).response.status, 400);
  get.path = "*";
  EXPECT_EQ(answer_request(*site, get).response.status, 400);

  h3::Request post = get;
  post.method = "POST";
  post.path = "/sub/data.bin";
  a = answer_request(*site, post);
  EXPECT_EQ(a.response.status, 405);
  ASSERT_NE(h3::find_field(a.response.fields, "allow"), nullptr);
  EXPECT_EQ(*h3::find_field(a.response.fields, "allow"), "GET, HEAD");

  h3::Request head = get;
  head.method = "HEAD";
  head.path = "/";
  a = answer_request(*site, head);
  EXPECT_EQ(a.response.status, 200);
  EXPECT_EQ(*h3::find_field(a.response.fields, "content-type"), "text/html; charset=utf-8");

  h3::Request http = get;
  http.scheme = "http";
  http.path = "/";
  EXPECT_EQ(answer_request(*site, http).response.status, 400);
}

}  // namespace
}  // namespace roam::apps
