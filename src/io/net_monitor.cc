#include "io/net_monitor.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

namespace roam::io {

bool LocalAddress::usable() const {
  if ((flags & (IFA_F_DADFAILED | IFA_F_DEPRECATED)) != 0) return false;
  // An optimistic address (RFC 4429) is still tentative but may already be used as a source.
  return (flags & IFA_F_TENTATIVE) == 0 || (flags & IFA_F_OPTIMISTIC) != 0;
}

namespace rtnl {

bool Link::up() const { return (flags & IFF_UP) != 0 && (flags & IFF_RUNNING) != 0; }

bool Route::is_default() const {
  return dst_len == 0 && type == RTN_UNICAST && table == RT_TABLE_MAIN && (flags & RTM_F_CLONED) == 0;
}

namespace {

using Bytes8 = std::span<const std::uint8_t>;

// Copies a fixed-size kernel struct out of bytes at off (memcpy: the buffer may be unaligned).
template <class T>
bool read_at(Bytes8 bytes, std::size_t off, T& out) {
  if (off > bytes.size() || bytes.size() - off < sizeof(T)) return false;
  std::memcpy(&out, bytes.data() + off, sizeof(T));
  return true;
}

// Calls f(type, payload) for each rtattr in bytes. False when an attribute's length is impossible
// or f rejects its payload: the whole message is then malformed.
template <class F>
bool for_each_attr(Bytes8 bytes, F&& f) {
  std::size_t off = 0;
  rtattr a{};
  while (read_at(bytes, off, a)) {
    if (a.rta_len < sizeof(rtattr) || a.rta_len > bytes.size() - off) return false;
    if (!f(static_cast<std::uint16_t>(a.rta_type & NLA_TYPE_MASK),
           bytes.subspan(off + sizeof(rtattr), a.rta_len - sizeof(rtattr)))) {
      return false;
    }
    off += std::min<std::size_t>(RTA_ALIGN(a.rta_len), bytes.size() - off);
  }
  return true;  // fewer than 4 bytes left over: padding
}

bool read_u32(Bytes8 p, std::uint32_t& out) {
  if (p.size() != sizeof(out)) return false;
  std::memcpy(&out, p.data(), sizeof(out));
  return true;
}

// A string attribute: up to the first NUL, never past the payload.
std::string read_string(Bytes8 p) { return {p.begin(), std::find(p.begin(), p.end(), std::uint8_t{0})}; }

bool is_link_local_v6(Bytes8 ip) { return ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80; }

// An address attribute of the message's family; a link-local IPv6 address gets ifindex as scope.
std::optional<SocketAddress> read_ip(int family, Bytes8 p, int ifindex) {
  if (family == AF_INET && p.size() == 4) {
    std::array<std::uint8_t, 4> ip{};
    std::copy(p.begin(), p.end(), ip.begin());
    return SocketAddress::from_ipv4(ip, 0);
  }
  if (family == AF_INET6 && p.size() == 16) {
    std::array<std::uint8_t, 16> ip{};
    std::copy(p.begin(), p.end(), ip.begin());
    const auto scope = is_link_local_v6(p) && ifindex > 0 ? static_cast<std::uint32_t>(ifindex) : 0u;
    return SocketAddress::from_ipv6(ip, 0, scope);
  }
  return std::nullopt;
}

// Each parser: nullopt + malformed=false for a message to ignore, nullopt + malformed=true for
// one to count and skip.
std::optional<Link> parse_link(Bytes8 body, bool& malformed) {
  ifinfomsg m{};
  malformed = !read_at(body, 0, m);
  if (malformed || m.ifi_family != AF_UNSPEC) return std::nullopt;
  Link link{m.ifi_index, {}, m.ifi_flags};
  malformed = !for_each_attr(body.subspan(NLMSG_ALIGN(sizeof(m))), [&](std::uint16_t type, Bytes8 p) {
    if (type == IFLA_IFNAME) link.ifname = read_string(p);
    return true;
  });
  if (malformed || link.ifindex <= 0) {
    malformed = true;
    return std::nullopt;
  }
  return link;
}

std::optional<LocalAddress> parse_address(Bytes8 body, bool& malformed) {
  ifaddrmsg m{};
  malformed = !read_at(body, 0, m) || m.ifa_index == 0 || m.ifa_index > INT_MAX;
  if (malformed || (m.ifa_family != AF_INET && m.ifa_family != AF_INET6)) return std::nullopt;
  LocalAddress a{static_cast<int>(m.ifa_index), {}, {}, m.ifa_prefixlen, m.ifa_scope, m.ifa_flags};
  std::optional<SocketAddress> local, address;
  malformed = !for_each_attr(body.subspan(NLMSG_ALIGN(sizeof(m))), [&](std::uint16_t type, Bytes8 p) {
    switch (type) {
      // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the same except on a
      // point-to-point link, where it names the peer. IPv6 sends only IFA_ADDRESS.
      case IFA_LOCAL: return (local = read_ip(m.ifa_family, p, a.ifindex)).has_value();
      case IFA_ADDRESS: return (address = read_ip(m.ifa_family, p, a.ifindex)).has_value();
      case IFA_LABEL: a.ifname = read_string(p); return true;
      case IFA_FLAGS: return read_u32(p, a.flags);  // the full 32 flag bits (ifa_flags has 8)
      default: return true;
    }
  });
  if (!malformed && !local && !address) malformed = true;
  if (malformed) return std::nullopt;
  a.address = local ? *local : *address;
  return a;
}

std::optional<Route> parse_route(Bytes8 body, bool& malformed) {
  rtmsg m{};
  malformed = !read_at(body, 0, m);
  if (malformed || (m.rtm_family != AF_INET && m.rtm_family != AF_INET6)) return std::nullopt;
  Route r;
  r.family = m.rtm_family == AF_INET ? SocketAddress::Family::kIpv4 : SocketAddress::Family::kIpv6;
  r.dst_len = m.rtm_dst_len;
  r.type = m.rtm_type;
  r.table = m.rtm_table;
  r.flags = m.rtm_flags;
  Bytes8 gateway, prefsrc;  // read after the walk: their scope id needs RTA_OIF, which may come later
  std::uint32_t oif = 0;
  malformed = !for_each_attr(body.subspan(NLMSG_ALIGN(sizeof(m))), [&](std::uint16_t type, Bytes8 p) {
    switch (type) {
      case RTA_TABLE: return read_u32(p, r.table);
      case RTA_OIF: return read_u32(p, oif) && oif <= INT_MAX;
      case RTA_GATEWAY: gateway = p; return true;
      case RTA_PREFSRC: prefsrc = p; return true;
      default: return true;
    }
  });
  if (malformed) return std::nullopt;
  r.ifindex = static_cast<int>(oif);
  if (gateway.data() != nullptr && !(r.gateway = read_ip(m.rtm_family, gateway, r.ifindex))) malformed = true;
  if (prefsrc.data() != nullptr && !(r.prefsrc = read_ip(m.rtm_family, prefsrc, r.ifindex))) malformed = true;
  if (malformed) return std::nullopt;
  return r;
}

}  // namespace

Batch parse(Bytes8 bytes) {
  Batch out;
  std::size_t off = 0;
  nlmsghdr h{};
  while (read_at(bytes, off, h)) {
    if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > bytes.size() - off) {
      ++out.malformed;  // the frame is lost: nothing after it can be trusted to start a message
      return out;
    }
    const Bytes8 body = bytes.subspan(off + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN);
    off += std::min<std::size_t>(NLMSG_ALIGN(h.nlmsg_len), bytes.size() - off);
    if ((h.nlmsg_flags & NLM_F_DUMP_INTR) != 0) out.interrupted = true;

    bool malformed = false;
    Message msg;
    msg.removed = h.nlmsg_type == RTM_DELLINK || h.nlmsg_type == RTM_DELADDR || h.nlmsg_type == RTM_DELROUTE;
    switch (h.nlmsg_type) {
      case NLMSG_DONE:
      case NLMSG_ERROR: {  // both carry an int: 0, or a negative errno
        if (h.nlmsg_type == NLMSG_DONE) out.done = true;
        int err = 0;
        if (!read_at(body, 0, err)) {
          malformed = h.nlmsg_type == NLMSG_ERROR;  // old kernels end a dump with an empty DONE
        } else if (err < 0 && err != INT_MIN) {
          out.error = -err;
        }
        break;
      }
      case RTM_NEWLINK:
      case RTM_DELLINK:
        if (auto link = parse_link(body, malformed)) {
          msg.body = std::move(*link);
          out.messages.push_back(std::move(msg));
        }
        break;
      case RTM_NEWADDR:
      case RTM_DELADDR:
        if (auto a = parse_address(body, malformed)) {
          msg.body = std::move(*a);
          out.messages.push_back(std::move(msg));
        }
        break;
      case RTM_NEWROUTE:
      case RTM_DELROUTE:
        if (auto r = parse_route(body, malformed)) {
          msg.body = std::move(*r);
          out.messages.push_back(std::move(msg));
        }
        break;
      default:
        break;  // NLMSG_NOOP, neighbours, rules...: not ours
    }
    if (malformed) ++out.malformed;
  }
  if (off < bytes.size()) ++out.malformed;  // a tail too short for a header
  return out;
}

}  // namespace rtnl

// ---- NetState ------------------------------------------------------------------------------

std::string NetState::ifname(int ifindex) const {
  const auto it = links_.find(ifindex);
  return it != links_.end() ? it->second.name : std::string();
}

void NetState::apply(const rtnl::Message& message, std::vector<NetChange>& out) {
  using Kind = NetChange::Kind;
  if (const auto* link = std::get_if<rtnl::Link>(&message.body)) {
    const auto it = links_.find(link->ifindex);
    if (message.removed) {
      if (it == links_.end()) return;
      // Whatever the link still held goes with it, reported through the same diff as a reload.
      NetState fresh = *this;
      fresh.links_.erase(link->ifindex);
      std::erase_if(fresh.addresses_, [&](const AddressKey& k) { return k.first == link->ifindex; });
      std::erase_if(fresh.routes_, [&](const RouteKey& k) { return std::get<1>(k) == link->ifindex; });
      replace(std::move(fresh), out);
      return;
    }
    const bool was_up = it != links_.end() && it->second.up;
    LinkState& state = links_[link->ifindex];
    if (!link->ifname.empty()) state.name = link->ifname;
    state.up = link->up();
    if (state.up != was_up) out.push_back({state.up ? Kind::kLinkUp : Kind::kLinkDown, link->ifindex, state.name, {}});
  } else if (const auto* a = std::get_if<LocalAddress>(&message.body)) {
    const AddressKey key{a->ifindex, a->address};
    const bool want = !message.removed && a->usable();
    if (want == addresses_.contains(key)) return;  // a lifetime refresh, or a tentative address going away
    if (want) {
      addresses_.insert(key);
    } else {
      addresses_.erase(key);
    }
    const std::string name = links_.contains(a->ifindex) ? ifname(a->ifindex) : a->ifname;
    out.push_back({want ? Kind::kAddressAdded : Kind::kAddressRemoved, a->ifindex, name, a->address});
  } else if (const auto* r = std::get_if<rtnl::Route>(&message.body)) {
    if (!r->is_default()) return;
    const RouteKey key{r->family, r->ifindex, r->gateway};
    const bool want = !message.removed;
    if (want == routes_.contains(key)) return;  // a router re-announcing the same default route
    if (want) {
      routes_.insert(key);
    } else {
      routes_.erase(key);
    }
    out.push_back({Kind::kDefaultRouteChanged, r->ifindex, ifname(r->ifindex), r->gateway});
  }
}

void NetState::replace(NetState fresh, std::vector<NetChange>& out) {
  using Kind = NetChange::Kind;
  for (const auto& [ifindex, address] : addresses_) {
    if (!fresh.addresses_.contains({ifindex, address})) {
      out.push_back({Kind::kAddressRemoved, ifindex, ifname(ifindex), address});
    }
  }
  for (const auto& [ifindex, link] : links_) {
    const auto it = fresh.links_.find(ifindex);
    if (link.up && (it == fresh.links_.end() || !it->second.up)) out.push_back({Kind::kLinkDown, ifindex, link.name, {}});
  }
  for (const auto& [ifindex, link] : fresh.links_) {
    const auto it = links_.find(ifindex);
    if (link.up && (it == links_.end() || !it->second.up)) out.push_back({Kind::kLinkUp, ifindex, link.name, {}});
  }
  std::vector<RouteKey> changed;  // in either set but not both
  std::set_symmetric_difference(routes_.begin(), routes_.end(), fresh.routes_.begin(), fresh.routes_.end(),
                                std::back_inserter(changed));
  for (const auto& [family, ifindex, gateway] : changed) {
    const std::string name = fresh.links_.contains(ifindex) ? fresh.ifname(ifindex) : ifname(ifindex);
    out.push_back({Kind::kDefaultRouteChanged, ifindex, name, gateway});
  }
  for (const auto& [ifindex, address] : fresh.addresses_) {
    if (!addresses_.contains({ifindex, address})) {
      out.push_back({Kind::kAddressAdded, ifindex, fresh.ifname(ifindex), address});
    }
  }
  *this = std::move(fresh);
}

// ---- Requests on a one-shot socket ----------------------------------------------------------

namespace {

constexpr std::size_t kReceiveBytes = 64 * 1024;  // larger than any message the kernel batches

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// A request: nlmsghdr, the fixed struct, then attributes; nlmsg_len is patched in by finish().
class Request {
 public:
  template <class Fixed>
  Request(std::uint16_t type, std::uint16_t flags, const Fixed& fixed) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    h.nlmsg_seq = 1;  // the socket is private to one request, so every reply is ours
    append(&h, sizeof(h));
    append(&fixed, sizeof(fixed));
  }
  void attr(std::uint16_t type, std::span<const std::uint8_t> payload) {
    const rtattr a{static_cast<unsigned short>(RTA_LENGTH(payload.size())), type};
    append(&a, sizeof(a));
    append(payload.data(), payload.size());
  }
  std::span<const std::uint8_t> finish() {
    const auto len = static_cast<std::uint32_t>(bytes_.size());
    std::memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_len), &len, sizeof(len));
    return bytes_;
  }

 private:
  void append(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), 0);
  }
  std::vector<std::uint8_t> bytes_;
};

// Sends request on a fresh socket and collects the reply: every part of a dump up to
// NLMSG_DONE, or the single answer of a plain request. Bounded by a 2 s receive timeout.
// interrupted is set when a dump reports it raced with a change.
SysResult<std::vector<rtnl::Message>> transact(Request& request, bool dump, bool& interrupted) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return last_error("socket(AF_NETLINK)");
  FdGuard guard(fd);
  const timeval timeout{2, 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0) {
    return last_error("setsockopt(SO_RCVTIMEO)");
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  const auto req = request.finish();
  if (::sendto(fd, req.data(), req.size(), 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    return last_error("netlink send");
  }
  std::vector<std::uint8_t> buffer(kReceiveBytes);
  std::vector<rtnl::Message> messages;
  interrupted = false;
  for (;;) {
    sockaddr_nl from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error("netlink receive");  // EAGAIN: the kernel did not answer in time
    if (from.nl_pid != 0) continue;                     // not from the kernel
    if (static_cast<std::size_t>(n) > buffer.size()) return SysError{"netlink receive", EMSGSIZE};
    auto batch = rtnl::parse({buffer.data(), static_cast<std::size_t>(n)});
    if (batch.error != 0) return SysError{dump ? "netlink dump" : "netlink request", batch.error};
    interrupted = interrupted || batch.interrupted;
    for (auto& m : batch.messages) messages.push_back(std::move(m));
    if (batch.done || (!dump && !batch.messages.empty())) return messages;
  }
}

// A full dump of one message type, redone (up to 3 times) if it raced with a change.
SysResult<std::vector<rtnl::Message>> dump(std::uint16_t type) {
  for (int attempt = 0;; ++attempt) {
    Request request = type == RTM_GETLINK   ? Request(type, NLM_F_DUMP, ifinfomsg{})
                      : type == RTM_GETADDR ? Request(type, NLM_F_DUMP, ifaddrmsg{})
                                            : Request(type, NLM_F_DUMP, rtmsg{});
    bool interrupted = false;
    auto messages = transact(request, true, interrupted);
    if (!messages || !interrupted || attempt == 2) return messages;
  }
}

std::string name_of_index(int ifindex) {
  char name[IF_NAMESIZE] = {};
  return ifindex > 0 && ::if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr ? name : "";
}

}  // namespace

SysResult<NetState> NetState::load() {
  NetState state;
  std::vector<NetChange> ignored;
  // Links first, so addresses and routes find their interface's name.
  for (const std::uint16_t type : {RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE}) {
    auto messages = dump(type);
    if (!messages) return messages.error();
    for (const auto& m : *messages) state.apply(m, ignored);
  }
  return state;
}

SysResult<std::vector<LocalAddress>> NetMonitor::current_addresses(const AddressFilter& filter) {
  auto links = dump(RTM_GETLINK);
  if (!links) return links.error();
  auto messages = dump(RTM_GETADDR);
  if (!messages) return messages.error();
  std::map<int, std::string> names;
  for (const auto& m : *links) {
    if (const auto* link = std::get_if<rtnl::Link>(&m.body)) names[link->ifindex] = link->ifname;
  }
  std::vector<LocalAddress> out;
  for (auto& m : *messages) {
    auto* a = std::get_if<LocalAddress>(&m.body);
    if (a == nullptr || m.removed) continue;
    if (!filter.loopback && a->address.is_loopback()) continue;
    if (!filter.unusable && !a->usable()) continue;
    if (const auto it = names.find(a->ifindex); it != names.end()) a->ifname = it->second;  // not the v4 label
    out.push_back(std::move(*a));
  }
  return out;
}

SysResult<RouteSource> NetMonitor::default_route_source(const SocketAddress& destination) {
  rtmsg m{};
  m.rtm_family = destination.is_ipv4() ? AF_INET : AF_INET6;
  m.rtm_dst_len = destination.is_ipv4() ? 32 : 128;
  Request request(RTM_GETROUTE, 0, m);
  request.attr(RTA_DST, destination.ip_bytes());
  if (destination.scope_id() != 0) {  // a link-local destination names its interface
    const std::uint32_t oif = destination.scope_id();
    request.attr(RTA_OIF, {reinterpret_cast<const std::uint8_t*>(&oif), sizeof(oif)});
  }
  bool interrupted = false;
  auto messages = transact(request, false, interrupted);
  if (!messages) return messages.error();
  for (const auto& msg : *messages) {
    const auto* r = std::get_if<rtnl::Route>(&msg.body);
    if (r == nullptr) continue;
    if (!r->prefsrc) return SysError{"route lookup", EADDRNOTAVAIL};
    return RouteSource{*r->prefsrc, r->ifindex, name_of_index(r->ifindex), r->gateway};
  }
  return SysError{"route lookup", EBADMSG};
}

// ---- NetMonitor ---------------------------------------------------------------------------------

SysResult<NetMonitor> NetMonitor::open() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return last_error("socket(AF_NETLINK)");
  FdGuard guard(fd);
  // Room for a burst (an interface going away sends a message per address and route). Failing
  // to enlarge it only makes an overflow, and with it a resync, more likely.
  const int rcvbuf = 1 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) return last_error("bind(AF_NETLINK)");
  // Subscribed first, loaded second: a change in between shows in the snapshot, its message
  // then finds nothing to change, so nothing is lost.
  auto state = NetState::load();
  if (!state) return state.error();
  return NetMonitor(guard.release(), std::move(state).value());
}

NetMonitor::NetMonitor(int fd, NetState state) : fd_(fd), state_(std::move(state)), buffer_(kReceiveBytes) {}

NetMonitor::NetMonitor(NetMonitor&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      state_(std::move(other.state_)),
      buffer_(std::move(other.buffer_)),
      need_resync_(other.need_resync_),
      resyncs_(other.resyncs_),
      malformed_(other.malformed_) {}

NetMonitor& NetMonitor::operator=(NetMonitor&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    state_ = std::move(other.state_);
    buffer_ = std::move(other.buffer_);
    need_resync_ = other.need_resync_;
    resyncs_ = other.resyncs_;
    malformed_ = other.malformed_;
  }
  return *this;
}

NetMonitor::~NetMonitor() { close(); }

void NetMonitor::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::vector<NetChange> NetMonitor::drain() {
  std::vector<NetChange> out;
  if (fd_ < 0) return out;
  // Bounded, so a flood cannot hold the event loop; the fd stays readable for the next round.
  for (int reads = 0; reads < 256; ++reads) {
    sockaddr_nl from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_TRUNC,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) {  // the kernel dropped messages: only a reload can tell what
      need_resync_ = true;
      continue;
    }
    if (n < 0) break;  // EAGAIN: all read
    if (from.nl_pid != 0) continue;  // only the kernel speaks for the network
    if (static_cast<std::size_t>(n) > buffer_.size()) {  // cut short: its tail is lost, so reload
      ++malformed_;
      need_resync_ = true;
      continue;
    }
    const auto batch = rtnl::parse({buffer_.data(), static_cast<std::size_t>(n)});
    malformed_ += batch.malformed;
    for (const auto& m : batch.messages) state_.apply(m, out);
  }
  if (need_resync_) {
    // Messages still queued behind the reload may replay changes it already holds; applying them
    // is harmless because the state reports only transitions.
    if (auto fresh = NetState::load()) {
      state_.replace(std::move(fresh).value(), out);
      need_resync_ = false;
      ++resyncs_;
    }  // else: try again on the next drain
  }
  return out;
}

}  // namespace roam::io
