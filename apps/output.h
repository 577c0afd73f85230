// Where roam-client puts downloaded bodies: files (written under a temporary name and renamed
// when complete, so a failed download leaves nothing behind) or standard output (bodies in URL
// order, even though the streams run concurrently).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"

namespace roam::apps {

class Output {
 public:
  virtual ~Output() = default;
  // An error message when the bytes cannot be stored.
  virtual std::optional<std::string> write(Bytes data) = 0;
  // The body is complete.
  virtual std::optional<std::string> finish() = 0;
  // The body will never be complete: drop what was stored.
  virtual void abort() = 0;
};

// Writes `path` (through `path`.part). nullptr and `error` set when the file cannot be created.
std::unique_ptr<Output> make_file_output(const std::filesystem::path& path, std::string& error);

// Hands out outputs that share one stream (stdout): the first output writes straight through,
// later ones are held in memory until those before them finished or aborted.
class OrderedOutputs {
 public:
  explicit OrderedOutputs(std::FILE* out) : out_(out) {}
  OrderedOutputs(const OrderedOutputs&) = delete;
  OrderedOutputs& operator=(const OrderedOutputs&) = delete;
  std::unique_ptr<Output> next();

 private:
  class Slot;
  struct Pending {
    std::vector<std::uint8_t> held;
    bool ended = false;
  };
  std::optional<std::string> write(std::size_t index, Bytes data);
  std::optional<std::string> end(std::size_t index, bool keep);
  std::optional<std::string> emit(Bytes data);

  std::FILE* out_;
  std::vector<Pending> slots_;
  std::size_t current_ = 0;  // the slot that writes straight through
};

}  // namespace roam::apps
