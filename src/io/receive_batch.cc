#include "io/receive_batch.h"

#include <algorithm>

#include "io/control_message.h"

namespace roam::io {

ReceiveBatch::ReceiveBatch(std::size_t messages, std::size_t buffer_size)
    : buffer_size_(std::max<std::size_t>(buffer_size, 1)) {
  messages = std::max<std::size_t>(messages, 1);
  data_.resize(messages * buffer_size_);
  control_.resize(messages * kControlBufferSize);
  names_.resize(messages);
  iov_.resize(messages);
  headers_.resize(messages);
  datagrams_.reserve(messages);
}

void ReceiveBatch::prepare() {
  datagrams_.clear();
  error_ = 0;
  dropped_ = 0;
  for (std::size_t i = 0; i < headers_.size(); ++i) {
    iov_[i] = iovec{data_.data() + i * buffer_size_, buffer_size_};
    msghdr& h = headers_[i].msg_hdr;
    h.msg_name = &names_[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &iov_[i];
    h.msg_iovlen = 1;
    h.msg_control = control_.data() + i * kControlBufferSize;
    h.msg_controllen = kControlBufferSize;
    h.msg_flags = 0;
    headers_[i].msg_len = 0;
  }
}

}  // namespace roam::io
