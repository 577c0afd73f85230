// Tells a mobile client when the host's network changes — an interface comes up or goes down, a
// local address appears or goes away, the default route moves — the way Android's
// ConnectivityManager or iOS's NWPathMonitor tell an app. Linux only: a non-blocking rtnetlink
// (NETLINK_ROUTE) socket subscribed to the link, address and route multicast groups.
//
// Three layers, so the part that reads kernel bytes is testable without a kernel:
//   rtnl::parse   bytes -> messages, bounds-checked; a malformed message is counted and skipped
//   NetState      messages -> changes: what is up / usable now, reporting only transitions
//   NetMonitor    the socket: drain() reads whatever is pending and returns the changes
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "common/socket_address.h"
#include "io/sys_result.h"

namespace roam::io {

// A local address as the kernel lists it (RTM_NEWADDR).
struct LocalAddress {
  int ifindex = 0;
  std::string ifname;       // the interface's name; "" when not known
  SocketAddress address;    // port 0; an IPv6 link-local address carries ifindex as its scope id
  std::uint8_t prefix_len = 0;
  std::uint8_t scope = 0;   // RT_SCOPE_UNIVERSE (0), RT_SCOPE_LINK (253), RT_SCOPE_HOST (254)
  std::uint32_t flags = 0;  // IFA_F_* (IFA_F_TENTATIVE, IFA_F_DEPRECATED, IFA_F_DADFAILED, ...)

  // The kernel would choose it as the source of new traffic: not still in duplicate address
  // detection (unless optimistic), not failed DAD, not deprecated.
  bool usable() const;
};

struct NetChange {
  enum class Kind { kAddressAdded, kAddressRemoved, kLinkUp, kLinkDown, kDefaultRouteChanged };
  Kind kind = Kind::kAddressAdded;
  int ifindex = 0;
  std::string ifname;  // "" when the interface's name is not known
  // kAddressAdded/kAddressRemoved: the address (port 0). kDefaultRouteChanged: the route's gateway,
  // if it has one (ask NetMonitor::default_route_source() which local address the kernel now
  // picks). Links: nullopt.
  std::optional<SocketAddress> address;

  friend bool operator==(const NetChange&, const NetChange&) = default;
};

struct AddressFilter {
  bool loopback = false;  // include 127.0.0.0/8 and ::1
  bool unusable = false;  // include tentative, DAD-failed and deprecated addresses
};

// Where the kernel would send a packet toward some destination right now.
struct RouteSource {
  SocketAddress source;  // the preferred source address (port 0)
  int ifindex = 0;       // the outgoing interface
  std::string ifname;
  std::optional<SocketAddress> gateway;  // nullopt when the destination is on-link
};

namespace rtnl {

// RTM_NEWLINK / RTM_DELLINK (AF_UNSPEC only: AF_BRIDGE port messages say nothing about the link).
struct Link {
  int ifindex = 0;
  std::string ifname;
  std::uint32_t flags = 0;  // IFF_*
  // Administratively up and operationally running (carrier present, or a link without one like lo).
  bool up() const;
};

// RTM_NEWROUTE / RTM_DELROUTE, IPv4 and IPv6 only.
struct Route {
  SocketAddress::Family family = SocketAddress::Family::kIpv4;
  int ifindex = 0;  // RTA_OIF; 0 for multipath routes
  std::uint8_t dst_len = 0;
  std::uint8_t type = 0;    // RTN_*
  std::uint32_t table = 0;  // RTA_TABLE when present, else rtm_table
  std::uint32_t flags = 0;  // RTM_F_*
  std::optional<SocketAddress> gateway;
  std::optional<SocketAddress> prefsrc;
  // A unicast default route (0.0.0.0/0 or ::/0) of the main table, not a cached clone.
  bool is_default() const;
};

struct Message {
  bool removed = false;  // RTM_DEL*
  std::variant<Link, LocalAddress, Route> body;
};

struct Batch {
  std::vector<Message> messages;  // in order; message types other than link/address/route skipped
  bool done = false;              // NLMSG_DONE: the end of a dump
  bool interrupted = false;       // NLM_F_DUMP_INTR: the dump saw changes mid-way; redo it
  int error = 0;                  // errno from NLMSG_ERROR (or a failed dump's NLMSG_DONE), 0 if none
  std::size_t malformed = 0;      // messages skipped as malformed (a broken frame stops the walk)
};

// Parses one datagram read from a netlink socket. Never reads outside bytes; any alignment.
Batch parse(std::span<const std::uint8_t> bytes);

}  // namespace rtnl

// What is up and usable now, built from rtnetlink messages. Every method reports only changes
// that are visible to an application: a link that was already up staying up, an IPv6 address
// refreshing its lifetime or a router re-announcing the same default route report nothing.
class NetState {
 public:
  // Applies one message, appending the changes it causes. A link that disappears takes its
  // addresses and default routes with it (reported even if the kernel's own messages are lost).
  void apply(const rtnl::Message& message, std::vector<NetChange>& out);
  // Becomes fresh (a full dump), appending the differences: removed addresses, links down,
  // links up, default route changes, added addresses, in that order.
  void replace(NetState fresh, std::vector<NetChange>& out);

  // A fresh snapshot from kernel dumps of links, addresses and routes.
  static SysResult<NetState> load();

  std::string ifname(int ifindex) const;
  std::size_t link_count() const { return links_.size(); }
  std::size_t address_count() const { return addresses_.size(); }
  std::size_t default_route_count() const { return routes_.size(); }

 private:
  struct LinkState {
    std::string name;
    bool up = false;
  };
  using AddressKey = std::pair<int, SocketAddress>;  // ifindex, address
  using RouteKey = std::tuple<SocketAddress::Family, int, std::optional<SocketAddress>>;  // family, oif, gateway

  std::map<int, LinkState> links_;
  std::set<AddressKey> addresses_;  // usable ones only
  std::set<RouteKey> routes_;       // default routes only
};

class NetMonitor {
 public:
  // Subscribes to link, IPv4/IPv6 address and IPv4/IPv6 route changes and loads the current
  // state: what is already up when open() returns is the starting point, not a change.
  static SysResult<NetMonitor> open();

  NetMonitor(NetMonitor&& other) noexcept;
  NetMonitor& operator=(NetMonitor&& other) noexcept;
  NetMonitor(const NetMonitor&) = delete;
  NetMonitor& operator=(const NetMonitor&) = delete;
  ~NetMonitor();

  // Readable when the kernel has news; poll it or watch it in an EventLoop, then drain().
  int fd() const { return fd_; }

  // Reads every pending message (never blocks) and returns the changes in order. If the kernel
  // dropped messages because the socket's buffer overflowed (ENOBUFS), the state is reloaded
  // from dumps and the differences are reported instead, so no change is lost for good.
  std::vector<NetChange> drain();

  const NetState& state() const { return state_; }
  std::uint64_t resyncs() const { return resyncs_; }             // reloads after ENOBUFS
  std::uint64_t malformed() const { return malformed_; }         // messages skipped
  void close();

  // One-shot: the host's addresses now (RTM_GETADDR dump), in the kernel's order.
  static SysResult<std::vector<LocalAddress>> current_addresses(const AddressFilter& filter = {});

  // One-shot: the source address, interface and gateway the kernel would use toward destination
  // now (RTM_GETROUTE) — normally the default route's. Fails with ENETUNREACH and the like when
  // there is no route, EADDRNOTAVAIL when the route names no source.
  static SysResult<RouteSource> default_route_source(const SocketAddress& destination);

 private:
  NetMonitor(int fd, NetState state);

  int fd_ = -1;
  NetState state_;
  std::vector<std::uint8_t> buffer_;
  bool need_resync_ = false;
  std::uint64_t resyncs_ = 0;
  std::uint64_t malformed_ = 0;
};

}  // namespace roam::io
