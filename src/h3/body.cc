#include "h3/body.h"

#include <algorithm>

namespace roam::h3 {

Result<std::size_t> BytesBody::read(MutBytes out, bool& eof) {
  const std::size_t n = std::min(out.size(), data_.size() - pos_);
  std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(pos_), n, out.begin());
  pos_ += n;
  eof = pos_ == data_.size();
  return n;
}

}  // namespace roam::h3
