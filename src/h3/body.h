// Where the body of a message the session sends comes from. The session pulls from it as the
// connection takes data, so a large body (a file) is never held in memory whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/types.h"

namespace roam::h3 {

class BodySource {
 public:
  virtual ~BodySource() = default;
  // Copies the next bytes of the body into `out` (at most out.size()) and returns how many. Sets
  // `eof` with the last bytes, or alone. Returning 0 without eof means nothing is available yet:
  // call Session::resume_body() once there is. An error resets the stream (H3_INTERNAL_ERROR).
  virtual Result<std::size_t> read(MutBytes out, bool& eof) = 0;
};

// A body held in memory.
class BytesBody final : public BodySource {
 public:
  explicit BytesBody(std::vector<std::uint8_t> data) : data_(std::move(data)) {}
  explicit BytesBody(std::string_view text) : data_(text.begin(), text.end()) {}
  Result<std::size_t> read(MutBytes out, bool& eof) override;

 private:
  std::vector<std::uint8_t> data_;
  std::size_t pos_ = 0;
};

}  // namespace roam::h3
