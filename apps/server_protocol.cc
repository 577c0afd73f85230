#include "server_protocol.h"

#include <vector>

#include "h3/message.h"
#include "h3_server.h"
#include "hq.h"
#include "perf.h"

namespace roam::apps {

bool StreamProtocol::is_finished(std::uint64_t id) const {
  const Finished& f = finished_[id & 3];
  const std::uint64_t index = id >> 2;
  return index < f.below || f.above.count(index) > 0;
}

void StreamProtocol::mark_finished(std::uint64_t id) {
  Finished& f = finished_[id & 3];
  f.above.insert(id >> 2);
  while (!f.above.empty() && *f.above.begin() == f.below) {
    f.above.erase(f.above.begin());
    ++f.below;
  }
}

void StreamProtocol::pump(conn::Connection& c) {
  while (auto ev = c.poll_event()) {
    std::optional<StreamId> touched;
    if (auto* o = std::get_if<conn::StreamOpened>(&*ev)) touched = o->id;
    if (auto* r = std::get_if<conn::StreamReadable>(&*ev)) touched = r->id;
    if (touched && !is_finished(touched->value)) active_.insert(touched->value);
    if (auto* s = std::get_if<conn::StreamStopSending>(&*ev)) {
      if (active_.erase(s->id.value) > 0) {
        (void)c.reset_stream(s->id, s->app_error);
        forget(s->id);
        mark_finished(s->id.value);
      }
    }
  }
  std::vector<std::uint64_t> finished;
  for (std::uint64_t id : active_) {
    if (serve(c, StreamId{id})) finished.push_back(id);
  }
  for (std::uint64_t id : finished) {
    active_.erase(id);
    mark_finished(id);
  }
}

const std::vector<std::string>& server_alpns() {
  static const std::vector<std::string> kAlpns = {std::string(h3::kAlpn), std::string(kHqAlpn), "perf", "echo",
                                                  "quic-echo"};
  return kAlpns;
}

bool is_server_alpn(std::string_view alpn) {
  for (const auto& a : server_alpns()) {
    if (a == alpn) return true;
  }
  return false;
}

std::unique_ptr<ServerProtocol> make_server_protocol(std::string_view alpn, const ServerSettings& settings) {
  if (alpn == h3::kAlpn) {
    if (!settings.site) return nullptr;
    return std::make_unique<H3Server>(settings.site, settings.log);
  }
  if (alpn == kHqAlpn) {
    if (!settings.site) return nullptr;
    return std::make_unique<HqServer>(settings.site, settings.log);
  }
  if (alpn == "perf") return std::make_unique<PerfServer>();
  if (alpn == "echo" || alpn == "quic-echo") return std::make_unique<EchoServer>();
  return nullptr;
}

}  // namespace roam::apps
