// What roam-client does about its network path: migrate to another local address after a while
// (--migrate-after, --migrate-to, --migrate-now), simulate a NAT rebinding (--rebind-after), or
// follow the network (--follow-network: rtnetlink tells us when addresses and the default route
// change, as ConnectivityManager or NWPathMonitor tell a mobile app).
//
// It watches the connection's paths rather than its events (the exchanges consume those), and
// owns the sockets it opens through the Driver.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/socket_address.h"
#include "common/types.h"
#include "conn/connection.h"
#include "driver.h"
#include "io/net_monitor.h"

namespace roam::apps {

struct MigrationOptions {
  std::optional<Duration> migrate_after;
  std::optional<SocketAddress> migrate_to;  // where the new socket binds (port 0: any); default same IP
  bool migrate_now = false;                 // switch at once, validate in parallel
  std::optional<Duration> rebind_after;
  bool follow_network = false;
  // Not a path change, but timed the same way: a 1-RTT key update (RFC 9001 6) after DURATION.
  std::optional<Duration> key_update_after;
  bool any() const { return migrate_after || rebind_after || follow_network; }
};

// Parses "1.5", "1.5s", "300ms"; nullopt on anything else.
std::optional<Duration> parse_duration(const std::string& text);

class MigrationControl {
 public:
  // `log` gets one line per path change (stderr when the payload goes to stdout).
  MigrationControl(const MigrationOptions& options, Driver& driver, std::FILE* log, bool quiet);

  // Starts the network monitor (--follow-network). False with one error line if it cannot.
  bool start(const SocketAddress& peer);
  // Called after every I/O round; `c` may be nullptr once the connection is gone. Prints one
  // line per path change, whoever caused it (the server's preferred address, a fallback).
  void tick(conn::Connection* c, Instant start, Instant now);
  // Problems worth an error line at the end (a failed migration).
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  struct Probe {
    PathId path;
    SocketAddress local;
    bool switch_now = false;
  };
  void begin_migration(conn::Connection& c, const SocketAddress& bind, bool switch_now, Instant now);
  void on_network_change(conn::Connection& c, Instant now);
  void close_unused_sockets(conn::Connection& c);
  void note(const std::string& line);

  MigrationOptions options_;
  Driver& driver_;
  std::FILE* log_;
  bool quiet_;
  std::optional<io::NetMonitor> monitor_;
  std::optional<SocketAddress> peer_;
  bool network_changed_ = false;
  bool migrated_ = false;
  bool rebound_ = false;
  bool key_updated_ = false;
  std::uint64_t path_changes_seen_ = 0;
  std::optional<Probe> probe_;
  std::vector<SocketAddress> our_sockets_;  // sockets we opened or inherited, closed when unused
  std::vector<std::string> errors_;
};

}  // namespace roam::apps
