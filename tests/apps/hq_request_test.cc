#include <gtest/gtest.h>

#include <fstream>

#include "hq.h"

namespace roam::apps {
namespace {

namespace fs = std::filesystem;

TEST(HqRequest, ParsesRequestLines) {
  std::string target;
  EXPECT_EQ(parse_hq_request("GET /a.txt\r\n", false, target), HqParse::kOk);
  EXPECT_EQ(target, "/a.txt");
  EXPECT_EQ(parse_hq_request("GET /b\n", false, target), HqParse::kOk);
  EXPECT_EQ(target, "/b");
  EXPECT_EQ(parse_hq_request("GET /c", true, target), HqParse::kOk);  // FIN ends the line
  EXPECT_EQ(target, "/c");
  EXPECT_EQ(parse_hq_request("GET /d HTTP/1.0\r\n", false, target), HqParse::kOk);
  EXPECT_EQ(target, "/d");
  EXPECT_EQ(hq_request_line("/x/y"), "GET /x/y\r\n");
}

TEST(HqRequest, WaitsForTheEndOfTheLine) {
  std::string target;
  EXPECT_EQ(parse_hq_request("", false, target), HqParse::kIncomplete);
  EXPECT_EQ(parse_hq_request("GET /a", false, target), HqParse::kIncomplete);
  EXPECT_EQ(parse_hq_request(std::string(kHqMaxRequest + 1, 'G'), false, target), HqParse::kBad);
}

TEST(HqRequest, RejectsMalformedRequests) {
  std::string target;
  EXPECT_EQ(parse_hq_request("", true, target), HqParse::kBad);
  EXPECT_EQ(parse_hq_request("POST /a\r\n", false, target), HqParse::kBad);
  EXPECT_EQ(parse_hq_request("GET a\r\n", false, target), HqParse::kBad);
  EXPECT_EQ(parse_hq_request("GET \r\n", false, target), HqParse::kBad);
  EXPECT_EQ(parse_hq_request("get /a\r\n", false, target), HqParse::kBad);
}

class HqFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("roam-hq-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    root_ = base_ / "root";
    fs::create_directories(root_ / "sub");
    std::ofstream(root_ / "a.txt") << "a";
    std::ofstream(root_ / "sub" / "b c.txt") << "b";
    std::ofstream(base_ / "secret.txt") << "s";
    fs::create_symlink("../secret.txt", root_ / "out-link");
    fs::create_symlink("sub/b c.txt", root_ / "in-link");
    root_ = fs::canonical(root_);
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_, root_;
};

TEST_F(HqFiles, FindsFilesUnderTheRoot) {
  EXPECT_EQ(hq_file_under(root_, "/a.txt"), root_ / "a.txt");
  EXPECT_EQ(hq_file_under(root_, "/sub/b%20c.txt"), root_ / "sub" / "b c.txt");
  EXPECT_EQ(hq_file_under(root_, "//sub/./b%20c.txt?x=1"), root_ / "sub" / "b c.txt");
  EXPECT_EQ(hq_file_under(root_, "/in-link"), root_ / "sub" / "b c.txt");  // symlink inside the root
}

TEST_F(HqFiles, RefusesWhatIsNotAFileUnderTheRoot) {
  const char* refused[] = {"/",          "/sub",           "/sub/",           "/missing",
                           "/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
                           "/sub/..%2f..%2fsecret.txt", "/out-link", "/a.txt%00.png", "/%zz", "/a%2", "a.txt"};
  for (const char* t : refused) EXPECT_FALSE(hq_file_under(root_, t)) << t;
}

}  // namespace
}  // namespace roam::apps
