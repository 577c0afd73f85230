#include "io/sys_result.h"

#include <cerrno>
#include <cstring>

namespace roam::io {

std::string SysError::message() const {
  std::string s(op);
  s += ": ";
  const char* desc = strerrordesc_np(code);
  s += desc != nullptr ? desc : ("error " + std::to_string(code));
  return s;
}

SysError last_error(std::string_view op) { return SysError{op, errno}; }

}  // namespace roam::io
