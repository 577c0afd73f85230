// Results of operating-system calls: a value or the errno of the call that failed. The datapath
// reports OS errors as values (never exceptions), with the operation named so an application
// can print one clear line ("bind: Address already in use").
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace roam::io {

struct SysError {
  std::string_view op;  // static storage: "socket", "bind", "setsockopt(SO_REUSEPORT)", ...
  int code = 0;         // errno
  // "<op>: <strerror(code)>"
  std::string message() const;
};

template <class T>
class [[nodiscard]] SysResult {
 public:
  SysResult(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  SysResult(SysError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  const SysError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, SysError> v_;
};

template <>
class [[nodiscard]] SysResult<void> {
 public:
  SysResult() = default;
  SysResult(SysError error) : err_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const SysError& error() const { return err_; }

 private:
  SysError err_{};
  bool ok_ = true;
};

using SysStatus = SysResult<void>;

// The current errno as a SysError for op.
SysError last_error(std::string_view op);

}  // namespace roam::io
