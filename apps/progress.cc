#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace roam::apps {

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char s[32];
  if (u == 0) {
    std::snprintf(s, sizeof s, "%.0f B", bytes);
  } else {
    std::snprintf(s, sizeof s, "%.1f %s", bytes, kUnits[u]);
  }
  return s;
}

double goodput_mbit(std::uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e6 : 0.0;
}

std::string format_summary(const TransferSummary& s) {
  char streams[48] = "";
  if (s.streams > 1) std::snprintf(streams, sizeof streams, " over %zu streams", s.streams);
  char line[256];
  std::snprintf(line, sizeof line, "received %s in %.3f s%s, goodput %.1f Mbit/s, rtt %.2f ms, %llu packets lost",
                human_bytes(static_cast<double>(s.bytes)).c_str(), s.seconds, streams,
                goodput_mbit(s.bytes, s.seconds), std::chrono::duration<double, std::milli>(s.rtt).count(),
                static_cast<unsigned long long>(s.packets_lost));
  return line;
}

ProgressBar::ProgressBar(std::FILE* out) : out_(out), enabled_(isatty(fileno(out)) == 1) {}

void ProgressBar::update(Instant now, std::uint64_t bytes, std::optional<std::uint64_t> total, std::size_t done,
                         std::size_t count) {
  if (!enabled_) return;
  if (!first_) first_ = now;
  if (last_ && now - *last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  constexpr int kWidth = 30;
  std::string bar;
  if (total && *total > 0) {
    const double frac = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(*total));
    const int filled = static_cast<int>(frac * kWidth);
    bar = "[" + std::string(static_cast<std::size_t>(filled), '#') +
          std::string(static_cast<std::size_t>(kWidth - filled), ' ') + "] ";
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%% ", static_cast<int>(frac * 100));
    bar += pct;
  }
  const double secs = std::chrono::duration<double>(now - *first_).count();
  std::fprintf(out_, "\r%s%s  %.1f Mbit/s  %zu/%zu done\x1b[K", bar.c_str(),
               human_bytes(static_cast<double>(bytes)).c_str(), goodput_mbit(bytes, secs), done, count);
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!drawn_) return;
  std::fprintf(out_, "\r\x1b[K");
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace roam::apps
