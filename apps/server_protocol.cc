#include "server_protocol.h"

#include <vector>

#include "hq.h"
#include "perf.h"

namespace roam::apps {

void ServerProtocol::pump(conn::Connection& c) {
  while (auto ev = c.poll_event()) {
    if (auto* o = std::get_if<conn::StreamOpened>(&*ev)) active_.insert(o->id.value);
    if (auto* r = std::get_if<conn::StreamReadable>(&*ev)) active_.insert(r->id.value);
    if (auto* s = std::get_if<conn::StreamStopSending>(&*ev)) {
      if (active_.erase(s->id.value) > 0) {
        (void)c.reset_stream(s->id, s->app_error);
        forget(s->id);
      }
    }
  }
  std::vector<std::uint64_t> finished;
  for (std::uint64_t id : active_) {
    if (serve(c, StreamId{id})) finished.push_back(id);
  }
  for (std::uint64_t id : finished) active_.erase(id);
}

bool is_server_alpn(std::string_view alpn) {
  return alpn == kHqAlpn || alpn == "perf" || alpn == "echo" || alpn == "quic-echo";
}

std::unique_ptr<ServerProtocol> make_server_protocol(std::string_view alpn, const ServerSettings& settings) {
  if (alpn == kHqAlpn) {
    if (!settings.root) return nullptr;
    return std::make_unique<HqServer>(*settings.root);
  }
  if (alpn == "perf") return std::make_unique<PerfServer>();
  if (alpn == "echo" || alpn == "quic-echo") return std::make_unique<EchoServer>();
  return nullptr;
}

}  // namespace roam::apps
