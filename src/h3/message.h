// HTTP messages as the HTTP/3 session exchanges them: a request's pseudo-header fields as members,
// regular fields as a list, and the H3 error codes of RFC 9114 section 8.1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace roam::h3 {

// RFC 9114 8.1: application error codes carried in RESET_STREAM, STOP_SENDING and CONNECTION_CLOSE.
inline constexpr std::uint64_t kNoError = 0x100;
inline constexpr std::uint64_t kGeneralProtocolError = 0x101;
inline constexpr std::uint64_t kInternalError = 0x102;
inline constexpr std::uint64_t kStreamCreationError = 0x103;
inline constexpr std::uint64_t kClosedCriticalStream = 0x104;
inline constexpr std::uint64_t kFrameUnexpected = 0x105;
inline constexpr std::uint64_t kFrameError = 0x106;
inline constexpr std::uint64_t kExcessiveLoad = 0x107;
inline constexpr std::uint64_t kIdError = 0x108;
inline constexpr std::uint64_t kSettingsError = 0x109;
inline constexpr std::uint64_t kMissingSettings = 0x10a;
inline constexpr std::uint64_t kRequestRejected = 0x10b;
inline constexpr std::uint64_t kRequestCancelled = 0x10c;
inline constexpr std::uint64_t kRequestIncomplete = 0x10d;
inline constexpr std::uint64_t kMessageError = 0x10e;
inline constexpr std::uint64_t kConnectError = 0x10f;
inline constexpr std::uint64_t kVersionFallback = 0x110;

// "H3_REQUEST_CANCELLED" for 0x10c; "" for a code RFC 9114 does not name.
std::string_view error_name(std::uint64_t code);

// The ALPN token of HTTP/3 (RFC 9114 3.1).
inline constexpr std::string_view kAlpn = "h3";

struct Field {
  std::string name;  // lower case on the wire (RFC 9114 4.2)
  std::string value;
  bool operator==(const Field&) const = default;
};
using Fields = std::vector<Field>;

// The value of the first field called `name` (lower case), or nullptr.
const std::string* find_field(const Fields& fields, std::string_view name);

struct Request {
  std::string method = "GET";
  std::string scheme = "https";
  std::string authority;
  std::string path = "/";
  Fields fields;  // regular fields only
};

struct Response {
  int status = 200;
  Fields fields;  // regular fields only
};

// "Not Found" for 404; "" for a status it does not know.
std::string_view reason_phrase(int status);

}  // namespace roam::h3
