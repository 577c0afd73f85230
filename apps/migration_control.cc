#include "migration_control.h"

#include <algorithm>
#include <cstdlib>

namespace roam::apps {

std::optional<Duration> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return std::nullopt;
  const std::string unit(end);
  double seconds = v;
  if (unit == "ms") {
    seconds = v / 1000;
  } else if (!unit.empty() && unit != "s") {
    return std::nullopt;
  }
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

MigrationControl::MigrationControl(const MigrationOptions& options, Driver& driver, std::FILE* log, bool quiet)
    : options_(options), driver_(driver), log_(log), quiet_(quiet) {}

bool MigrationControl::start(const SocketAddress& peer) {
  peer_ = peer;
  if (!options_.follow_network) return true;
  auto mon = io::NetMonitor::open();
  if (!mon) {
    std::fprintf(stderr, "error: --follow-network: cannot watch the network: %s\n", mon.error().message().c_str());
    return false;
  }
  monitor_.emplace(std::move(mon).value());
  driver_.watch(monitor_->fd(), [this] {
    for (const auto& ch : monitor_->drain()) {
      (void)ch;
      network_changed_ = true;
    }
  });
  return true;
}

void MigrationControl::note(const std::string& line) {
  if (!quiet_) std::fprintf(log_, "%s\n", line.c_str());
}

void MigrationControl::begin_migration(conn::Connection& c, const SocketAddress& bind, bool switch_now, Instant now) {
  auto local = driver_.add_socket(bind);
  if (!local) {
    errors_.push_back("cannot open a socket on " + bind.to_string() + " to migrate to");
    return;
  }
  auto id = c.probe_path(*local, now);
  if (!id) {
    driver_.close_socket(*local);
    errors_.push_back("cannot migrate to " + local->to_string() + ": " + std::string(id.error().reason));
    return;
  }
  note("probing path " + local->to_string() + " -> " + c.peer_address().to_string());
  probe_ = Probe{*id, *local, switch_now};
  if (switch_now) {
    if (auto s = c.migrate(*id, now); !s) errors_.push_back("migrate: " + std::string(s.error().reason));
    note("migrated to " + local->to_string() + " (validating in parallel)");
  }
}

void MigrationControl::on_network_change(conn::Connection& c, Instant now) {
  // Which local address would the kernel use towards the server now?
  auto route = io::NetMonitor::default_route_source(*peer_);
  if (!route) return;
  const SocketAddress src = route->source;
  if (src.same_ip(c.local_address()) || probe_) return;
  // Our address is gone: switch at once. Otherwise probe first and move once validated.
  bool ours_still_there = false;
  if (auto addrs = io::NetMonitor::current_addresses(io::AddressFilter{true, false})) {
    for (const auto& a : *addrs) ours_still_there = ours_still_there || a.address.same_ip(c.local_address());
  }
  note("network changed: " + src.ip_string() + " is now the way to " + peer_->ip_string());
  begin_migration(c, src.with_port(0), !ours_still_there, now);
}

void MigrationControl::close_unused_sockets(conn::Connection& c) {
  // A socket no path uses any more is closed (its interface is no longer ours to use).
  const auto paths = c.paths();
  for (auto it = our_sockets_.begin(); it != our_sockets_.end();) {
    const bool used = std::any_of(paths.begin(), paths.end(), [&](const conn::PathInfo& p) { return p.local == *it; });
    if (!used) {
      driver_.close_socket(*it);
      it = our_sockets_.erase(it);
    } else {
      ++it;
    }
  }
}

void MigrationControl::tick(conn::Connection* c, Instant start, Instant now) {
  if (!c || !c->is_established() || c->is_closing()) return;
  for (const auto& pc : c->path_changes_since(path_changes_seen_)) {
    note("path changed " + pc.old_local.to_string() + " -> " + pc.new_local.to_string() + " towards " +
         pc.new_peer.to_string() + " (" + std::string(conn::to_string(pc.reason)) + ")");
  }
  path_changes_seen_ = c->stats().migrations;
  if (our_sockets_.empty()) our_sockets_.push_back(c->local_address());
  if (options_.rebind_after && !rebound_ && now - start >= *options_.rebind_after) {
    rebound_ = true;
    // A NAT rebinding, seen from inside: same IP, new port, nothing probed.
    const SocketAddress old = c->local_address();
    if (auto local = driver_.add_socket(old.with_port(0))) {
      if (auto s = c->rebind(*local, now); !s) {
        errors_.push_back("rebind: " + std::string(s.error().reason));
        driver_.close_socket(*local);
      } else {
        driver_.close_socket(old);
        our_sockets_.push_back(*local);
        note("rebound " + old.to_string() + " -> " + local->to_string() + " (no probing)");
      }
    }
  }
  if (options_.key_update_after && !key_updated_ && now - start >= *options_.key_update_after) {
    // Retried each round until the previous update was acknowledged (RFC 9001 6.5).
    if (c->initiate_key_update()) {
      key_updated_ = true;
      note("key update: sending with 1-RTT key generation " + std::to_string(c->write_key_generation()));
    }
  }
  if (options_.migrate_after && !migrated_ && !probe_ && now - start >= *options_.migrate_after) {
    migrated_ = true;
    begin_migration(*c, options_.migrate_to.value_or(c->local_address().with_port(0)), options_.migrate_now, now);
  }
  if (network_changed_) {
    network_changed_ = false;
    on_network_change(*c, now);
  }
  if (probe_) {
    const auto paths = c->paths();
    auto it = std::find_if(paths.begin(), paths.end(), [&](const conn::PathInfo& p) { return p.id == probe_->path; });
    if (it == paths.end()) {
      errors_.push_back("path " + probe_->local.to_string() + " failed validation; stayed on " +
                        c->local_address().to_string());
      driver_.close_socket(probe_->local);
      probe_.reset();
    } else if (it->validated) {
      if (!it->active) {
        if (auto s = c->migrate(probe_->path, now); !s) errors_.push_back("migrate: " + std::string(s.error().reason));
      }
      note("path " + probe_->local.to_string() + " validated, now active");
      our_sockets_.push_back(probe_->local);
      probe_.reset();
    }
  }
  if (!probe_) close_unused_sockets(*c);
}

}  // namespace roam::apps
