#include "common/error.h"

namespace roam {

std::string_view to_string(TransportError e) {
  const auto v = static_cast<std::uint64_t>(e);
  if (v >= 0x100 && v <= 0x1ff) return "CRYPTO_ERROR";
  switch (e) {
    case TransportError::kNoError: return "NO_ERROR";
    case TransportError::kInternalError: return "INTERNAL_ERROR";
    case TransportError::kConnectionRefused: return "CONNECTION_REFUSED";
    case TransportError::kFlowControlError: return "FLOW_CONTROL_ERROR";
    case TransportError::kStreamLimitError: return "STREAM_LIMIT_ERROR";
    case TransportError::kStreamStateError: return "STREAM_STATE_ERROR";
    case TransportError::kFinalSizeError: return "FINAL_SIZE_ERROR";
    case TransportError::kFrameEncodingError: return "FRAME_ENCODING_ERROR";
    case TransportError::kTransportParameterError: return "TRANSPORT_PARAMETER_ERROR";
    case TransportError::kConnectionIdLimitError: return "CONNECTION_ID_LIMIT_ERROR";
    case TransportError::kProtocolViolation: return "PROTOCOL_VIOLATION";
    case TransportError::kInvalidToken: return "INVALID_TOKEN";
    case TransportError::kApplicationError: return "APPLICATION_ERROR";
    case TransportError::kCryptoBufferExceeded: return "CRYPTO_BUFFER_EXCEEDED";
    case TransportError::kKeyUpdateError: return "KEY_UPDATE_ERROR";
    case TransportError::kAeadLimitReached: return "AEAD_LIMIT_REACHED";
    case TransportError::kNoViablePath: return "NO_VIABLE_PATH";
    default: return "UNKNOWN_ERROR";
  }
}

}  // namespace roam
