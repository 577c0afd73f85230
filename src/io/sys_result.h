// Results of operating-system calls: a value or the errno of the call that failed. The datapath
// reports OS errors as values (never exceptions), with the operation named so an application
// can print one clear line ("bind: Address already in use").
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace roam::io {

struct SysError {
  std::string_view op;  // static storage: "socket", "bind", "setsockopt(SO_REUSEPORT)", ...
  int code = 0;         // errno
  // "<op>: <strerror(code)>"
  std::string message() const;
};

template <class T>
using SysResult = Result<T, SysError>;

using SysStatus = SysResult<void>;

// The current errno as a SysError for op.
SysError last_error(std::string_view op);

}  // namespace roam::io
