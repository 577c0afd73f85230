// Human-readable numbers, the terminal progress bar and the one-line transfer summary shared by
// roam-client's modes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "common/types.h"

namespace roam::apps {

// 1234567 -> "1.2 MB" (decimal units, as goodput is quoted in Mbit/s).
std::string human_bytes(double bytes);
// bits per second over `seconds`, 0 when seconds is 0.
double goodput_mbit(std::uint64_t bytes, double seconds);

struct TransferSummary {
  std::uint64_t bytes = 0;
  std::size_t streams = 0;
  double seconds = 0;
  Duration rtt{};
  std::uint64_t packets_lost = 0;
};
// "received 5.0 MB in 0.123 s over 3 streams, goodput 325.2 Mbit/s, rtt 0.21 ms, 0 packets lost"
// (scripts match "received <size> in ").
std::string format_summary(const TransferSummary& s);

// Redraws one line on a terminal ("\r[#####     ]  50% 2.5 MB 3/5 files") at most every 100 ms.
// Does nothing when `out` is not a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::FILE* out);
  bool enabled() const { return enabled_; }
  // total: expected bytes when known (perf), else the bar shows bytes and rate only.
  void update(Instant now, std::uint64_t bytes, std::optional<std::uint64_t> total, std::size_t done,
              std::size_t count);
  // Erases the bar so the summary or an error starts on a clean line.
  void clear();

 private:
  std::FILE* out_;
  bool enabled_;
  bool drawn_ = false;
  std::optional<Instant> first_, last_;
};

}  // namespace roam::apps
