#include "qlog/qlog.h"

#include <gtest/gtest.h>

namespace roam::qlog {
namespace {

struct MemorySink : Sink {
  std::string* out;
  explicit MemorySink(std::string* o) : out(o) {}
  void write(std::string_view r) override { out->append(r); }
};

TEST(Qlog, HeaderAndEventsAreJsonSeqRecords) {
  std::string out;
  Writer w(std::make_unique<MemorySink>(&out), true, "abcd", Instant{});
  w.emit(Instant{} + std::chrono::microseconds(1500), "packet_sent",
         Event().field("reason", "quote \" and \\ and \n").field("n", std::uint64_t{7}).take());
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[0], '\x1e');
  EXPECT_NE(out.find("\"file_schema\":\"urn:ietf:params:qlog:file:sequential\""), std::string::npos);
  EXPECT_NE(out.find("\"type\":\"server\""), std::string::npos);
  EXPECT_NE(out.find("\x1e{\"time\":1.500,\"name\":\"quic:packet_sent\",\"data\":{\"reason\":\"quote \\\" and \\\\ and \\n\",\"n\":7}}\n"),
            std::string::npos);
}

TEST(Qlog, EscapesControlCharacters) {
  EXPECT_EQ(escape(std::string("a\x01z", 3)), "a\\u0001z");
  EXPECT_EQ(escape("tab\there"), "tab\\there");
}

}  // namespace
}  // namespace roam::qlog
