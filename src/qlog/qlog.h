// qlog (draft-ietf-quic-qlog-main-schema / -quic-events) as JSON Text Sequences (RFC 7464).
// The connection writes events through a Writer into a Sink the application supplies, so the
// protocol core never opens a file itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/types.h"

namespace roam::qlog {

// Receives complete JSON-SEQ records (each starts with 0x1E and ends with '\n').
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(std::string_view record) = 0;
};

// Appends records to a file; flushes on destruction. Returns nullptr if the file cannot be opened.
std::unique_ptr<Sink> open_file_sink(const std::string& path);

// Builds one event's JSON. Fields are appended in order; strings are escaped.
class Event {
 public:
  Event& field(std::string_view key, std::string_view value);  // string
  Event& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  Event& field(std::string_view key, const std::string& value) { return field(key, std::string_view(value)); }
  Event& field(std::string_view key, std::uint64_t value);
  Event& field(std::string_view key, double value);
  Event& field(std::string_view key, bool value);
  Event& raw(std::string_view key, std::string_view json);    // pre-built JSON value
  std::string take() { return "{" + body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_;
};

std::string escape(std::string_view s);

class Writer {
 public:
  // `group_id` names the connection (the original DCID in hex); `reference` is time zero.
  Writer(std::unique_ptr<Sink> sink, bool server, std::string group_id, Instant reference);
  // name without the "quic:" prefix, data as a JSON object.
  // `tuple`: the event's TupleID (qlog main schema 7.2); empty means the default tuple "".
  void emit(Instant now, std::string_view name, std::string data_json, std::string_view tuple = {});

 private:
  std::unique_ptr<Sink> sink_;
  Instant reference_;
};

inline constexpr std::string_view kEventSchema = "urn:ietf:params:qlog:events:quic-13";

}  // namespace roam::qlog
