#include "h3/message.h"

namespace roam::h3 {

std::string_view error_name(std::uint64_t code) {
  switch (code) {
    case kNoError: return "H3_NO_ERROR";
    case kGeneralProtocolError: return "H3_GENERAL_PROTOCOL_ERROR";
    case kInternalError: return "H3_INTERNAL_ERROR";
    case kStreamCreationError: return "H3_STREAM_CREATION_ERROR";
    case kClosedCriticalStream: return "H3_CLOSED_CRITICAL_STREAM";
    case kFrameUnexpected: return "H3_FRAME_UNEXPECTED";
    case kFrameError: return "H3_FRAME_ERROR";
    case kExcessiveLoad: return "H3_EXCESSIVE_LOAD";
    case kIdError: return "H3_ID_ERROR";
    case kSettingsError: return "H3_SETTINGS_ERROR";
    case kMissingSettings: return "H3_MISSING_SETTINGS";
    case kRequestRejected: return "H3_REQUEST_REJECTED";
    case kRequestCancelled: return "H3_REQUEST_CANCELLED";
    case kRequestIncomplete: return "H3_REQUEST_INCOMPLETE";
    case kMessageError: return "H3_MESSAGE_ERROR";
    case kConnectError: return "H3_CONNECT_ERROR";
    case kVersionFallback: return "H3_VERSION_FALLBACK";
    default: return "";
  }
}

const std::string* find_field(const Fields& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

}  // namespace roam::h3
