// HTTP/0.9 over QUIC (ALPN hq-interop), as the QUIC interop runner uses it: the client opens a
// bidirectional stream, sends "GET /path\r\n" and FIN; the server sends the file's bytes and FIN.
// There is no status line, so a refused request (missing file, path outside the served root,
// malformed request) is answered with RESET_STREAM: an empty file stays distinguishable from a
// missing one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "exchange.h"
#include "output.h"
#include "server_protocol.h"
#include "url.h"

namespace roam::apps {

inline constexpr std::string_view kHqAlpn = "hq-interop";
// hq-interop defines no error codes; these are roam-server's RESET_STREAM codes.
inline constexpr std::uint64_t kHqBadRequest = 0x1;
inline constexpr std::uint64_t kHqNotFound = 0x2;  // missing, not a regular file, or outside --root
inline constexpr std::uint64_t kHqServerError = 0x3;
// Longest request line the server waits for.
inline constexpr std::size_t kHqMaxRequest = 8192;

std::string hq_request_line(std::string_view target);

enum class HqParse : std::uint8_t { kIncomplete, kOk, kBad };
// Parses "GET <target>" ended by LF, CRLF or (when fin) the end of the stream. `target` gets the
// request target, which must start with '/'. Text after the target (" HTTP/1.0") is ignored.
HqParse parse_hq_request(std::string_view data, bool fin, std::string& target);

// The regular file a request target names under `root` (canonical, symlinks resolved), or nullopt
// when the target is malformed, names no regular file, or leads outside root (through "..",
// percent-encoded or not, or a symlink). A target ending in '/' names its index.html.
std::optional<std::filesystem::path> hq_file_under(const std::filesystem::path& root, std::string_view target);

class HqServer final : public StreamProtocol {
 public:
  HqServer(std::shared_ptr<const Site> site, RequestLogger log) : site_(std::move(site)), log_(std::move(log)) {}

 private:
  struct Stream {
    std::string request;
    bool request_fin = false;
    std::unique_ptr<Resource> resource;
    std::uint64_t read_offset = 0;    // resource bytes read so far
    std::vector<std::uint8_t> chunk;  // read from the resource, not yet taken by the connection
    std::size_t chunk_sent = 0;
  };
  bool serve(conn::Connection& c, StreamId id) override;
  void forget(StreamId id) override { streams_.erase(id.value); }
  enum class Step : std::uint8_t { kWait, kReady, kGone, kAborted, kBadRequest, kNotFound };
  Step read_request(conn::Connection& c, StreamId id, Stream& s);
  bool refuse(conn::Connection& c, StreamId id, const Stream& s, std::uint64_t code);
  bool send_file(conn::Connection& c, StreamId id, Stream& s);

  std::shared_ptr<const Site> site_;
  RequestLogger log_;
  std::unordered_map<std::uint64_t, Stream> streams_;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
};

// Client: GET one URL into an Output.
class HqDownload final : public Exchange {
 public:
  HqDownload(Url url, std::unique_ptr<Output> out) : url_(std::move(url)), out_(std::move(out)) {}
  std::string label() const override { return url_.to_string(); }
  std::vector<std::uint8_t> request() const override;
  std::optional<std::string> on_data(Bytes data) override;
  std::optional<std::string> on_fin() override;
  void on_failure() override { out_->abort(); }
  std::string warning() const override;
  std::string reset_message(std::uint64_t code) const override;

 private:
  Url url_;
  std::unique_ptr<Output> out_;
  std::uint64_t received_ = 0;
};

}  // namespace roam::apps
