#include "lb/return_paths.h"

namespace roam::lb {

std::optional<std::size_t> ReturnPaths::lb_index(const SocketAddress& source) const {
  for (std::size_t i = 0; i < lbs_.size(); ++i) {
    if (lbs_[i] == source) return i;
  }
  return std::nullopt;
}

void ReturnPaths::record(const SocketAddress& listen, const SocketAddress& client, std::size_t lb,
                         const SocketAddress& local, Instant now) {
  Via& v = vias_[Pair{listen, client}];
  v.lb = lb;
  v.local = local;
  v.seen = now;
}

const ReturnPaths::Via* ReturnPaths::find(const SocketAddress& listen, const SocketAddress& client) const {
  auto it = vias_.find(Pair{listen, client});
  return it == vias_.end() ? nullptr : &it->second;
}

std::size_t ReturnPaths::prune(Instant before,
                               const std::function<bool(const SocketAddress&, const SocketAddress&)>& in_use) {
  return std::erase_if(vias_, [&](const auto& kv) {
    return kv.second.seen < before && !in_use(kv.first.listen, kv.first.client);
  });
}

}  // namespace roam::lb
