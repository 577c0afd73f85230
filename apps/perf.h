// The `perf` and `echo` application protocols.
// perf: the client opens a bidirectional stream and sends an 8-byte big-endian length N (and FIN);
//       the server answers with N bytes of a fixed pattern (perf_fill) and FIN, so the client can
//       check every byte it receives.
// echo: the server writes back everything a stream sends, then FIN. Also offered as quic-echo.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "exchange.h"
#include "server_protocol.h"

namespace roam::apps {

// The byte at `offset` of a perf response: cheap to compute, and a shifted or dropped byte shows.
inline std::uint8_t perf_byte(std::uint64_t offset) {
  return static_cast<std::uint8_t>((offset * 131) ^ (offset >> 9) ^ (offset >> 17));
}
void perf_fill(std::uint64_t offset, MutBytes out);
// Number of bytes in buf that differ from the pattern at offset (0 when all match).
std::size_t perf_mismatches(std::uint64_t offset, Bytes buf);

class PerfServer final : public StreamProtocol {
 private:
  struct Stream {
    std::vector<std::uint8_t> request;  // the 8-byte length as it arrives
    bool request_done = false;
    std::uint64_t to_send = 0;
    std::uint64_t offset = 0;
  };
  bool serve(conn::Connection& c, StreamId id) override;
  void forget(StreamId id) override { streams_.erase(id.value); }

  std::unordered_map<std::uint64_t, Stream> streams_;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
};

class EchoServer final : public StreamProtocol {
 private:
  struct Stream {
    std::vector<std::uint8_t> pending;  // read, not yet written back
    bool fin_received = false;
  };
  bool serve(conn::Connection& c, StreamId id) override;
  void forget(StreamId id) override { streams_.erase(id.value); }

  std::unordered_map<std::uint64_t, Stream> streams_;
  std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
};

// Client: asks for `bytes` perf bytes and checks each one.
class PerfExchange final : public Exchange {
 public:
  PerfExchange(std::string label, std::uint64_t bytes) : label_(std::move(label)), bytes_(bytes) {}
  std::string label() const override { return label_; }
  std::vector<std::uint8_t> request() const override;
  std::optional<std::string> on_data(Bytes data) override;
  std::optional<std::string> on_fin() override;
  std::optional<std::uint64_t> expected_bytes() const override { return bytes_; }

 private:
  std::string label_;
  std::uint64_t bytes_;
  std::uint64_t received_ = 0;
};

// Client: sends `text` and expects it back.
class EchoExchange final : public Exchange {
 public:
  EchoExchange(std::string label, std::string text) : label_(std::move(label)), text_(std::move(text)) {}
  std::string label() const override { return label_; }
  std::vector<std::uint8_t> request() const override { return {text_.begin(), text_.end()}; }
  std::optional<std::string> on_data(Bytes data) override;
  std::optional<std::string> on_fin() override;
  std::optional<std::uint64_t> expected_bytes() const override { return text_.size(); }
  std::string result_line() const override { return "echo: " + echoed_; }

 private:
  std::string label_;
  std::string text_;
  std::string echoed_;
};

}  // namespace roam::apps
