#include "qlog/qlog.h"

#include <cstdio>

namespace roam::qlog {

namespace {

class FileSink final : public Sink {
 public:
  explicit FileSink(std::FILE* f) : f_(f) {}
  ~FileSink() override { std::fclose(f_); }
  void write(std::string_view record) override { std::fwrite(record.data(), 1, record.size(), f_); }

 private:
  std::FILE* f_;
};

}  // namespace

std::unique_ptr<Sink> open_file_sink(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "we");
  if (!f) return nullptr;
  return std::make_unique<FileSink>(f);
}

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

void Event::key(std::string_view k) {
  if (!body_.empty()) body_ += ',';
  body_ += '"';
  body_ += k;
  body_ += "\":";
}

Event& Event::field(std::string_view k, std::string_view value) {
  key(k);
  body_ += '"';
  body_ += escape(value);
  body_ += '"';
  return *this;
}

Event& Event::field(std::string_view k, std::uint64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

Event& Event::field(std::string_view k, double value) {
  key(k);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  body_ += buf;
  return *this;
}

Event& Event::field(std::string_view k, bool value) {
  key(k);
  body_ += value ? "true" : "false";
  return *this;
}

Event& Event::raw(std::string_view k, std::string_view json) {
  key(k);
  body_ += json;
  return *this;
}

Writer::Writer(std::unique_ptr<Sink> sink, bool server, std::string group_id, Instant reference)
    : sink_(std::move(sink)), reference_(reference) {
  std::string header = "\x1e{\"file_schema\":\"urn:ietf:params:qlog:file:sequential\","
                       "\"serialization_format\":\"application/qlog+json-seq\","
                       "\"title\":\"roam\",\"trace\":{\"common_fields\":{\"group_id\":\"";
  header += escape(group_id);
  header += "\",\"time_format\":\"relative_to_epoch\",\"reference_time\":{\"clock_type\":\"monotonic\","
            "\"epoch\":\"unknown\"}},\"vantage_point\":{\"name\":\"roam\",\"type\":\"";
  header += server ? "server" : "client";
  header += "\"},\"event_schemas\":[\"";
  header += kEventSchema;
  header += "\"]}}\n";
  sink_->write(header);
}

void Writer::emit(Instant now, std::string_view name, std::string data_json, std::string_view tuple) {
  const double ms = std::chrono::duration<double, std::milli>(now - reference_).count();
  char t[32];
  std::snprintf(t, sizeof t, "%.3f", ms);
  std::string rec = "\x1e{\"time\":";
  rec += t;
  rec += ",\"name\":\"quic:";
  rec += name;
  rec += "\"";
  if (!tuple.empty()) {
    rec += ",\"tuple\":\"";
    rec += tuple;
    rec += "\"";
  }
  rec += ",\"data\":";
  rec += data_json;
  rec += "}\n";
  sink_->write(rec);
}

}  // namespace roam::qlog
