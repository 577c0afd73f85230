#include "output.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace roam::apps {
namespace {

namespace fs = std::filesystem;

Bytes bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class Outputs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("roam-out-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Outputs, FileAppearsOnlyWhenComplete) {
  std::string error;
  auto out = make_file_output(dir_ / "f.bin", error);
  ASSERT_TRUE(out) << error;
  EXPECT_FALSE(out->write(bytes("hello ")));
  EXPECT_FALSE(out->write(bytes("world")));
  EXPECT_FALSE(fs::exists(dir_ / "f.bin"));
  EXPECT_TRUE(fs::exists(dir_ / "f.bin.part"));
  EXPECT_FALSE(out->finish());
  EXPECT_EQ(slurp(dir_ / "f.bin"), "hello world");
  EXPECT_FALSE(fs::exists(dir_ / "f.bin.part"));
  EXPECT_TRUE(out->finish());  // twice is an error
}

TEST_F(Outputs, AbortedFileLeavesNothing) {
  std::string error;
  auto out = make_file_output(dir_ / "g.bin", error);
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->write(bytes("partial")));
  out->abort();
  EXPECT_TRUE(fs::is_empty(dir_));
  auto dropped = make_file_output(dir_ / "h.bin", error);
  ASSERT_TRUE(dropped);
  dropped.reset();  // destroyed unfinished: same as abort
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(Outputs, UncreatableFileIsAnError) {
  std::string error;
  EXPECT_FALSE(make_file_output(dir_ / "no-such-dir" / "f", error));
  EXPECT_NE(error.find("cannot create"), std::string::npos);
}

TEST_F(Outputs, OrderedOutputsKeepUrlOrder) {
  const fs::path path = dir_ / "stdout";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  {
    OrderedOutputs outs(f);
    auto a = outs.next(), b = outs.next(), c = outs.next(), d = outs.next();
    // Bodies arrive interleaved and finish out of order; b fails.
    EXPECT_FALSE(c->write(bytes("C1")));
    EXPECT_FALSE(a->write(bytes("A1")));
    EXPECT_FALSE(b->write(bytes("B1")));
    EXPECT_FALSE(d->write(bytes("D1")));
    EXPECT_FALSE(c->write(bytes("C2")));
    EXPECT_FALSE(c->finish());
    b->abort();
    EXPECT_FALSE(a->write(bytes("A2")));
    EXPECT_FALSE(a->finish());  // releases c; d becomes the one writing through
    EXPECT_FALSE(d->write(bytes("D2")));
    EXPECT_FALSE(d->finish());
  }
  std::fclose(f);
  EXPECT_EQ(slurp(path), "A1A2C1C2D1D2");
}

}  // namespace
}  // namespace roam::apps
