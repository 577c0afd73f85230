#include "io/net_monitor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace roam::io {
namespace {

using Kind = NetChange::Kind;
using Bytes = std::vector<std::uint8_t>;

// ---- Hand-built netlink messages ---------------------------------------------------------------

// One message: header, fixed struct, attributes; nlmsg_len is filled in by bytes().
class Msg {
 public:
  template <class Fixed>
  Msg(std::uint16_t type, const Fixed& fixed, std::uint16_t flags = 0) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    put(&h, sizeof(h));
    put(&fixed, sizeof(fixed));
  }
  Msg& attr(std::uint16_t type, const Bytes& payload) {
    const rtattr a{static_cast<unsigned short>(RTA_LENGTH(payload.size())), type};
    put(&a, sizeof(a));
    put(payload.data(), payload.size());
    return *this;
  }
  Msg& u32(std::uint16_t type, std::uint32_t v) { return attr(type, {reinterpret_cast<std::uint8_t*>(&v), reinterpret_cast<std::uint8_t*>(&v) + 4}); }
  Msg& str(std::uint16_t type, const std::string& s) { return attr(type, Bytes(s.c_str(), s.c_str() + s.size() + 1)); }
  Msg& ip(std::uint16_t type, const char* text) { return attr(type, ip_bytes(text)); }
  Bytes bytes() const {
    Bytes b = bytes_;
    const auto len = static_cast<std::uint32_t>(b.size());
    std::memcpy(b.data(), &len, sizeof(len));
    return b;
  }
  static Bytes ip_bytes(const char* text) {
    const auto a = SocketAddress::parse_ip(text);
    EXPECT_TRUE(a.has_value()) << text;
    const auto raw = a->ip_bytes();
    return {raw.begin(), raw.end()};
  }

 private:
  void put(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), 0);
  }
  Bytes bytes_;
};

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Msg addr_msg(std::uint16_t type, std::uint8_t family, std::uint32_t ifindex, std::uint8_t flags = 0) {
  ifaddrmsg m{};
  m.ifa_family = family;
  m.ifa_prefixlen = family == AF_INET ? 24 : 64;
  m.ifa_flags = flags;
  m.ifa_index = ifindex;
  return Msg(type, m);
}

Msg link_msg(std::uint16_t type, int ifindex, std::uint32_t flags, const std::string& name,
             std::uint8_t family = AF_UNSPEC) {
  ifinfomsg m{};
  m.ifi_family = family;
  m.ifi_index = ifindex;
  m.ifi_flags = flags;
  Msg msg(type, m);
  msg.str(IFLA_IFNAME, name);
  return msg;
}

Msg route_msg(std::uint16_t type, std::uint8_t family, std::uint8_t dst_len, std::uint8_t table = RT_TABLE_MAIN) {
  rtmsg m{};
  m.rtm_family = family;
  m.rtm_dst_len = dst_len;
  m.rtm_table = table;
  m.rtm_type = RTN_UNICAST;
  return Msg(type, m);
}

SocketAddress addr(const char* text, std::uint32_t scope = 0) {
  auto a = SocketAddress::parse_ip(text);
  EXPECT_TRUE(a.has_value()) << text;
  if (scope == 0 || !a) return a.value_or(SocketAddress{});
  std::array<std::uint8_t, 16> ip{};
  std::copy(a->ip_bytes().begin(), a->ip_bytes().end(), ip.begin());
  return SocketAddress::from_ipv6(ip, 0, scope);
}

std::string describe(const NetChange& c) {
  static const char* const kinds[] = {"added", "removed", "up", "down", "route"};
  std::string s = kinds[static_cast<int>(c.kind)];
  s += " " + std::to_string(c.ifindex) + "/" + c.ifname;
  if (c.address) s += " " + c.address->ip_string();
  return s;
}

std::string describe(const std::vector<NetChange>& changes) {
  std::string s;
  for (const auto& c : changes) s += "[" + describe(c) + "] ";
  return s;
}

// ---- Parsing ------------------------------------------------------------------------------

TEST(NetlinkParse, Ipv4AddressPrefersLocalOverPeerAndReadsLabel) {
  // A point-to-point address: IFA_ADDRESS is the peer, IFA_LOCAL is ours.
  const auto bytes = addr_msg(RTM_NEWADDR, AF_INET, 7).ip(IFA_ADDRESS, "10.0.0.2").ip(IFA_LOCAL, "10.0.0.1").str(IFA_LABEL, "ppp0").bytes();
  const auto batch = rtnl::parse(bytes);
  ASSERT_EQ(batch.messages.size(), 1u);
  EXPECT_EQ(batch.malformed, 0u);
  const auto& m = batch.messages[0];
  EXPECT_FALSE(m.removed);
  const auto& a = std::get<LocalAddress>(m.body);
  EXPECT_EQ(a.ifindex, 7);
  EXPECT_EQ(a.ifname, "ppp0");
  EXPECT_EQ(a.address, addr("10.0.0.1"));
  EXPECT_EQ(a.prefix_len, 24);
  EXPECT_TRUE(a.usable());
}

TEST(NetlinkParse, Ipv6LinkLocalGetsScopeAndFlagsAttributeWins) {
  const auto bytes = concat({
      addr_msg(RTM_NEWADDR, AF_INET6, 3, IFA_F_TENTATIVE).ip(IFA_ADDRESS, "fe80::1").bytes(),
      // IFA_FLAGS carries the full 32 bits and overrides the 8-bit ifa_flags.
      addr_msg(RTM_NEWADDR, AF_INET6, 3, IFA_F_TENTATIVE).ip(IFA_ADDRESS, "2001:db8::1").u32(IFA_FLAGS, IFA_F_NOPREFIXROUTE).bytes(),
      addr_msg(RTM_DELADDR, AF_INET6, 3, IFA_F_TENTATIVE | IFA_F_OPTIMISTIC).ip(IFA_ADDRESS, "2001:db8::2").bytes(),
      addr_msg(RTM_NEWADDR, AF_INET6, 3, IFA_F_DEPRECATED).ip(IFA_ADDRESS, "2001:db8::3").bytes(),
      addr_msg(RTM_NEWADDR, AF_INET6, 3, IFA_F_DADFAILED).ip(IFA_ADDRESS, "2001:db8::4").bytes(),
  });
  const auto batch = rtnl::parse(bytes);
  ASSERT_EQ(batch.messages.size(), 5u);
  const auto at = [&](std::size_t i) { return std::get<LocalAddress>(batch.messages[i].body); };
  EXPECT_EQ(at(0).address, addr("fe80::1", 3));
  EXPECT_EQ(at(0).address.scope_id(), 3u);
  EXPECT_FALSE(at(0).usable());  // tentative
  EXPECT_EQ(at(1).address.scope_id(), 0u);
  EXPECT_EQ(at(1).flags, static_cast<std::uint32_t>(IFA_F_NOPREFIXROUTE));
  EXPECT_TRUE(at(1).usable());
  EXPECT_TRUE(batch.messages[2].removed);
  EXPECT_TRUE(at(2).usable());  // optimistic: tentative but usable
  EXPECT_FALSE(at(3).usable());
  EXPECT_FALSE(at(4).usable());
}

TEST(NetlinkParse, LinksAndBridgePortMessages) {
  const auto bytes = concat({
      link_msg(RTM_NEWLINK, 2, IFF_UP | IFF_RUNNING, "wlan0").bytes(),
      link_msg(RTM_NEWLINK, 3, IFF_UP, "eth0").bytes(),  // up but no carrier
      link_msg(RTM_DELLINK, 4, 0, "rmnet0").bytes(),
      link_msg(RTM_DELLINK, 2, 0, "wlan0", AF_BRIDGE).bytes(),  // leaves a bridge; the link stays
  });
  const auto batch = rtnl::parse(bytes);
  EXPECT_EQ(batch.malformed, 0u);
  ASSERT_EQ(batch.messages.size(), 3u);
  const auto link = [&](std::size_t i) { return std::get<rtnl::Link>(batch.messages[i].body); };
  EXPECT_EQ(link(0).ifname, "wlan0");
  EXPECT_TRUE(link(0).up());
  EXPECT_FALSE(link(1).up());
  EXPECT_TRUE(batch.messages[2].removed);
  EXPECT_EQ(link(2).ifindex, 4);
}

TEST(NetlinkParse, RoutesDefaultOrNot) {
  // RTA_GATEWAY before RTA_OIF: the link-local gateway still gets the interface as scope.
  const auto bytes = concat({
      route_msg(RTM_NEWROUTE, AF_INET6, 0).ip(RTA_GATEWAY, "fe80::99").u32(RTA_OIF, 5).u32(RTA_TABLE, RT_TABLE_MAIN).bytes(),
      route_msg(RTM_DELROUTE, AF_INET, 0).ip(RTA_GATEWAY, "192.0.2.1").u32(RTA_OIF, 2).ip(RTA_PREFSRC, "192.0.2.7").bytes(),
      route_msg(RTM_NEWROUTE, AF_INET, 24).u32(RTA_OIF, 2).ip(RTA_DST, "192.0.2.0").bytes(),
      route_msg(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_LOCAL).u32(RTA_OIF, 2).bytes(),
      route_msg(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_UNSPEC).u32(RTA_TABLE, 1000).u32(RTA_OIF, 2).bytes(),
  });
  const auto batch = rtnl::parse(bytes);
  EXPECT_EQ(batch.malformed, 0u);
  ASSERT_EQ(batch.messages.size(), 5u);
  const auto route = [&](std::size_t i) { return std::get<rtnl::Route>(batch.messages[i].body); };
  EXPECT_TRUE(route(0).is_default());
  EXPECT_EQ(route(0).ifindex, 5);
  EXPECT_EQ(route(0).gateway, addr("fe80::99", 5));
  EXPECT_TRUE(route(1).is_default());
  EXPECT_TRUE(batch.messages[1].removed);
  EXPECT_EQ(route(1).prefsrc, addr("192.0.2.7"));
  EXPECT_FALSE(route(2).is_default());
  EXPECT_FALSE(route(3).is_default());  // the local table
  EXPECT_FALSE(route(4).is_default());  // RTA_TABLE says table 1000
}

TEST(NetlinkParse, DoneErrorAndInterruptedDump) {
  const int enobufs = -ENOBUFS;
  nlmsgerr err{};
  err.error = -ENETUNREACH;
  const auto bytes = concat({
      addr_msg(RTM_NEWADDR, AF_INET, 1).ip(IFA_LOCAL, "127.0.0.1").bytes(),
      Msg(NLMSG_DONE, enobufs, NLM_F_MULTI | NLM_F_DUMP_INTR).bytes(),
  });
  const auto batch = rtnl::parse(bytes);
  EXPECT_EQ(batch.messages.size(), 1u);
  EXPECT_TRUE(batch.done);
  EXPECT_TRUE(batch.interrupted);
  EXPECT_EQ(batch.error, ENOBUFS);
  const auto failed = rtnl::parse(Msg(NLMSG_ERROR, err).bytes());
  EXPECT_EQ(failed.error, ENETUNREACH);
  EXPECT_FALSE(failed.done);
}

TEST(NetlinkParse, MalformedMessagesAreSkippedAndTheRestParsed) {
  Bytes bad_attr_len = addr_msg(RTM_NEWADDR, AF_INET, 1).ip(IFA_LOCAL, "10.0.0.1").bytes();
  bad_attr_len[sizeof(nlmsghdr) + sizeof(ifaddrmsg)] = 2;  // rta_len 2 < sizeof(rtattr)
  Bytes attr_too_long = addr_msg(RTM_NEWADDR, AF_INET, 1).ip(IFA_LOCAL, "10.0.0.1").bytes();
  attr_too_long[sizeof(nlmsghdr) + sizeof(ifaddrmsg)] = 200;  // past the end of its message
  const std::uint32_t four = 0;
  Bytes empty_error = Msg(NLMSG_ERROR, four).bytes();  // no room for the error code
  empty_error.resize(sizeof(nlmsghdr));
  empty_error[0] = sizeof(nlmsghdr);
  const auto bytes = concat({
      bad_attr_len,
      attr_too_long,
      addr_msg(RTM_NEWADDR, AF_INET, 1).attr(IFA_LOCAL, {10, 0, 0, 1, 9}).bytes(),     // 5-byte IPv4
      addr_msg(RTM_NEWADDR, AF_INET, 1).str(IFA_LABEL, "no-address").bytes(),          // no address
      addr_msg(RTM_NEWADDR, AF_INET, 0).ip(IFA_LOCAL, "10.0.0.1").bytes(),             // ifindex 0
      route_msg(RTM_NEWROUTE, AF_INET, 0).attr(RTA_OIF, {1, 0}).bytes(),                 // short u32
      route_msg(RTM_NEWROUTE, AF_INET, 0).attr(RTA_GATEWAY, {}).bytes(),                 // empty gateway
      link_msg(RTM_NEWLINK, -1, IFF_UP, "neg").bytes(),                                  // ifindex < 0
      Msg(RTM_NEWADDR, four).bytes(),                                                    // short ifaddrmsg
      empty_error,
      addr_msg(RTM_NEWADDR, AF_INET, 9).ip(IFA_LOCAL, "10.9.9.9").bytes(),               // the good one
  });
  const auto batch = rtnl::parse(bytes);
  EXPECT_EQ(batch.malformed, 10u);
  ASSERT_EQ(batch.messages.size(), 1u);
  EXPECT_EQ(std::get<LocalAddress>(batch.messages[0].body).address, addr("10.9.9.9"));
  EXPECT_EQ(batch.error, 0);
}

TEST(NetlinkParse, TruncatedBuffersKeepOnlyTheWholeMessages) {
  const std::vector<Bytes> parts = {
      link_msg(RTM_NEWLINK, 2, IFF_UP | IFF_RUNNING, "wlan0").bytes(),
      addr_msg(RTM_NEWADDR, AF_INET6, 2).ip(IFA_ADDRESS, "2001:db8::1").u32(IFA_FLAGS, 0).bytes(),
      route_msg(RTM_NEWROUTE, AF_INET, 0).ip(RTA_GATEWAY, "192.0.2.1").u32(RTA_OIF, 2).bytes(),
  };
  const Bytes all = concat({parts[0], parts[1], parts[2]});
  for (std::size_t len = 0; len <= all.size(); ++len) {
    std::size_t whole = 0, end = 0;
    for (const auto& p : parts) {
      if (end + p.size() > len) break;
      end += p.size();
      ++whole;
    }
    // A copy of exactly len bytes, so a read past the prefix is a heap overflow under ASan.
    const Bytes prefix(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(len));
    const auto batch = rtnl::parse(prefix);
    EXPECT_EQ(batch.messages.size(), whole) << "len " << len;
    EXPECT_EQ(batch.malformed, len == end ? 0u : 1u) << "len " << len;
  }
}

TEST(NetlinkParse, GarbageAndMutationsNeverCrash) {
  std::mt19937 rng(20240611);
  const Bytes valid = concat({
      link_msg(RTM_NEWLINK, 2, IFF_UP | IFF_RUNNING, "wlan0").bytes(),
      addr_msg(RTM_NEWADDR, AF_INET6, 2).ip(IFA_ADDRESS, "fe80::1").str(IFA_LABEL, "x").bytes(),
      route_msg(RTM_DELROUTE, AF_INET6, 0).ip(RTA_GATEWAY, "fe80::2").u32(RTA_OIF, 2).ip(RTA_PREFSRC, "2001:db8::5").bytes(),
  });
  std::size_t parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes b;
    if (i % 2 == 0) {  // random bytes
      b.resize(rng() % 300);
      for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    } else {  // a valid buffer with a few bytes changed and maybe cut
      b = valid;
      for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
      b.resize(rng() % (b.size() + 1));
    }
    // Parse from an odd offset too: nothing may assume alignment.
    Bytes shifted(b.size() + 1);
    std::copy(b.begin(), b.end(), shifted.begin() + 1);
    const auto batch = rtnl::parse(b);
    const auto batch2 = rtnl::parse(std::span<const std::uint8_t>(shifted).subspan(1));
    EXPECT_EQ(batch.messages.size(), batch2.messages.size());
    EXPECT_EQ(batch.malformed, batch2.malformed);
    parsed += batch.messages.size();
    // Whatever survives is feedable to the state machine.
    NetState state;
    std::vector<NetChange> out;
    for (const auto& m : batch.messages) state.apply(m, out);
  }
  EXPECT_GT(parsed, 0u);  // the mutations left some messages intact
}

// ---- NetState ----------------------------------------------------------------------------

std::vector<NetChange> feed(NetState& state, const Bytes& bytes) {
  std::vector<NetChange> out;
  const auto batch = rtnl::parse(bytes);
  EXPECT_EQ(batch.malformed, 0u);
  for (const auto& m : batch.messages) state.apply(m, out);
  return out;
}

TEST(NetState, ReportsOnlyTransitions) {
  NetState s;
  EXPECT_EQ(feed(s, link_msg(RTM_NEWLINK, 4, IFF_UP, "wlan0").bytes()), std::vector<NetChange>{});  // no carrier yet
  EXPECT_EQ(feed(s, link_msg(RTM_NEWLINK, 4, IFF_UP | IFF_RUNNING, "wlan0").bytes()),
            (std::vector<NetChange>{{Kind::kLinkUp, 4, "wlan0", {}}}));
  EXPECT_TRUE(feed(s, link_msg(RTM_NEWLINK, 4, IFF_UP | IFF_RUNNING | IFF_PROMISC, "wlan0").bytes()).empty());

  // Tentative (DAD running): not yet. DAD done: added. A lifetime refresh: nothing.
  const auto v6 = [](std::uint8_t flags) { return addr_msg(RTM_NEWADDR, AF_INET6, 4, flags).ip(IFA_ADDRESS, "2001:db8::7").bytes(); };
  EXPECT_TRUE(feed(s, v6(IFA_F_TENTATIVE)).empty());
  EXPECT_EQ(feed(s, v6(0)), (std::vector<NetChange>{{Kind::kAddressAdded, 4, "wlan0", addr("2001:db8::7")}}));
  EXPECT_TRUE(feed(s, v6(0)).empty());
  EXPECT_EQ(feed(s, v6(IFA_F_DEPRECATED)), (std::vector<NetChange>{{Kind::kAddressRemoved, 4, "wlan0", addr("2001:db8::7")}}));
  EXPECT_EQ(feed(s, v6(0)).size(), 1u);

  const auto dflt = route_msg(RTM_NEWROUTE, AF_INET6, 0).ip(RTA_GATEWAY, "fe80::1").u32(RTA_OIF, 4).bytes();
  EXPECT_EQ(feed(s, dflt), (std::vector<NetChange>{{Kind::kDefaultRouteChanged, 4, "wlan0", addr("fe80::1", 4)}}));
  EXPECT_TRUE(feed(s, dflt).empty());  // the router announced it again
  EXPECT_TRUE(feed(s, route_msg(RTM_NEWROUTE, AF_INET6, 64).u32(RTA_OIF, 4).bytes()).empty());
  EXPECT_EQ(s.address_count(), 1u);
  EXPECT_EQ(s.default_route_count(), 1u);

  // The link vanishes without the kernel's per-address messages: all of it is still reported.
  EXPECT_EQ(feed(s, link_msg(RTM_DELLINK, 4, 0, "wlan0").bytes()),
            (std::vector<NetChange>{{Kind::kAddressRemoved, 4, "wlan0", addr("2001:db8::7")},
                                    {Kind::kLinkDown, 4, "wlan0", {}},
                                    {Kind::kDefaultRouteChanged, 4, "wlan0", addr("fe80::1", 4)}}));
  EXPECT_EQ(s.link_count(), 0u);
  EXPECT_EQ(s.address_count(), 0u);
  EXPECT_EQ(s.default_route_count(), 0u);
  // Removing what was never usable reports nothing.
  EXPECT_TRUE(feed(s, addr_msg(RTM_DELADDR, AF_INET, 9).ip(IFA_LOCAL, "10.1.1.1").bytes()).empty());
}

TEST(NetState, ReplaceReportsTheDifference) {
  NetState before, after;
  feed(before, concat({link_msg(RTM_NEWLINK, 2, IFF_UP | IFF_RUNNING, "wlan0").bytes(),
                       link_msg(RTM_NEWLINK, 3, IFF_UP, "rmnet0").bytes(),
                       addr_msg(RTM_NEWADDR, AF_INET, 2).ip(IFA_LOCAL, "192.168.1.5").bytes(),
                       route_msg(RTM_NEWROUTE, AF_INET, 0).ip(RTA_GATEWAY, "192.168.1.1").u32(RTA_OIF, 2).bytes()}));
  // Wi-Fi lost, LTE up, with its own address and default route.
  feed(after, concat({link_msg(RTM_NEWLINK, 2, IFF_UP, "wlan0").bytes(),
                      link_msg(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING, "rmnet0").bytes(),
                      addr_msg(RTM_NEWADDR, AF_INET, 3).ip(IFA_LOCAL, "10.20.30.40").bytes(),
                      route_msg(RTM_NEWROUTE, AF_INET, 0).u32(RTA_OIF, 3).bytes()}));
  std::vector<NetChange> out;
  before.replace(after, out);
  EXPECT_EQ(out, (std::vector<NetChange>{{Kind::kAddressRemoved, 2, "wlan0", addr("192.168.1.5")},
                                         {Kind::kLinkDown, 2, "wlan0", {}},
                                         {Kind::kLinkUp, 3, "rmnet0", {}},
                                         {Kind::kDefaultRouteChanged, 2, "wlan0", addr("192.168.1.1")},
                                         {Kind::kDefaultRouteChanged, 3, "rmnet0", {}},
                                         {Kind::kAddressAdded, 3, "rmnet0", addr("10.20.30.40")}}))
      << describe(out);
  out.clear();
  before.replace(after, out);
  EXPECT_TRUE(out.empty()) << describe(out);
}

// ---- Live, in a network namespace of our own ---------------------------------------------

struct ChildResult {
  bool skipped = false;
  bool ok = false;
  std::string message;
};

// A body's answer that starts with this skips the test instead of failing it.
constexpr std::string_view kSkip = "skip: ";

// Runs body in a forked child that first moves into a fresh network namespace, so the host's
// network is never touched. body returns "" on success, else what went wrong. Bounded at 30 s.
ChildResult in_fresh_netns(const std::function<std::string()>& body) {
  if (::geteuid() != 0) return {true, false, "needs root to create a network namespace"};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {false, false, "pipe failed"};
  const pid_t pid = ::fork();
  if (pid < 0) return {false, false, "fork failed"};
  if (pid == 0) {
    ::close(fds[0]);
    std::string msg;
    int code = 1;
    if (::unshare(CLONE_NEWNET) != 0) {
      msg = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      code = 77;
    } else {
      msg = body();
      code = msg.empty() ? 0 : msg.starts_with(kSkip) ? 77 : 1;
    }
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(code);
  }
  ::close(fds[1]);
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > give_up) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ::close(fds[0]);
      return {false, false, "child timed out"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string msg;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) msg.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) return {true, false, msg};
  if (!WIFEXITED(status)) return {false, false, "child died with signal " + std::to_string(WTERMSIG(status))};
  return {false, WEXITSTATUS(status) == 0, msg};
}

const char* ip_binary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return nullptr;
}

// Runs `ip args...` (iproute2) and returns "" or a description of the failure.
std::string ip(std::vector<std::string> args) {
  const char* bin = ip_binary();
  if (bin == nullptr) return "no ip binary";
  std::vector<char*> argv{const_cast<char*>(bin)};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(bin, argv.data());
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd = "ip";
    for (const auto& a : args) cmd += " " + a;
    return "'" + cmd + "' failed";
  }
  return "";
}

// Drains monitor until a change matches want or limit passes; everything seen lands in seen.
bool wait_for(NetMonitor& monitor, const std::function<bool(const NetChange&)>& want, std::vector<NetChange>& seen,
              std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  std::size_t checked = 0;
  for (;;) {
    for (; checked < seen.size(); ++checked) {
      if (want(seen[checked])) return true;
    }
    if (std::chrono::steady_clock::now() > give_up) return false;
    pollfd p{monitor.fd(), POLLIN, 0};
    ::poll(&p, 1, 20);
    for (auto& c : monitor.drain()) seen.push_back(std::move(c));
  }
}

std::function<bool(const NetChange&)> is(Kind kind, const std::string& ifname, std::optional<SocketAddress> a = {}) {
  return [=](const NetChange& c) { return c.kind == kind && c.ifname == ifname && (!a || c.address == a); };
}

#define CHECK_OR_RETURN(cond, what)                                          \
  do {                                                                       \
    if (!(cond)) return std::string(what) + " (line " + std::to_string(__LINE__) + ")"; \
  } while (0)
#define IP_OR_RETURN(...)                                 \
  do {                                                    \
    if (auto e = ip({__VA_ARGS__}); !e.empty()) return e; \
  } while (0)

TEST(NetMonitorLive, AddressesComeAndGo) {
  if (ip_binary() == nullptr) GTEST_SKIP() << "iproute2's ip is not installed";
  const auto r = in_fresh_netns([]() -> std::string {
    IP_OR_RETURN("link", "set", "lo", "up");
    auto opened = NetMonitor::open();
    CHECK_OR_RETURN(opened, "open: " + opened.error().message());
    NetMonitor& monitor = *opened;
    CHECK_OR_RETURN(monitor.state().address_count() >= 1, "127.0.0.1 is in the loaded state");

    std::vector<NetChange> seen;
    IP_OR_RETURN("addr", "add", "10.77.0.1/24", "dev", "lo");
    CHECK_OR_RETURN(wait_for(monitor, is(Kind::kAddressAdded, "lo", addr("10.77.0.1")), seen), "v4 added: " + describe(seen));
    IP_OR_RETURN("-6", "addr", "add", "fd00:77::1/128", "dev", "lo");
    CHECK_OR_RETURN(wait_for(monitor, is(Kind::kAddressAdded, "lo", addr("fd00:77::1")), seen), "v6 added: " + describe(seen));

    auto list = NetMonitor::current_addresses();
    CHECK_OR_RETURN(list, "current_addresses: " + list.error().message());
    std::set<std::string> listed;
    for (const auto& a : *list) listed.insert(a.ifname + " " + a.address.ip_string());
    CHECK_OR_RETURN((listed == std::set<std::string>{"lo 10.77.0.1", "lo fd00:77::1"}), "listed without loopback");
    auto with_lo = NetMonitor::current_addresses({.loopback = true});
    CHECK_OR_RETURN(with_lo && with_lo->size() == 4, "listed with 127.0.0.1 and ::1");

    auto src = NetMonitor::default_route_source(addr("10.77.0.9"));
    CHECK_OR_RETURN(src, "route to 10.77.0.9: " + src.error().message());
    CHECK_OR_RETURN(src->source == addr("10.77.0.1") && src->ifname == "lo" && !src->gateway, "source toward 10.77.0.9");
    auto none = NetMonitor::default_route_source(addr("2001:db8::1"));
    CHECK_OR_RETURN(!none && none.error().code == ENETUNREACH, "no IPv6 route out of the namespace");

    IP_OR_RETURN("addr", "del", "10.77.0.1/24", "dev", "lo");
    CHECK_OR_RETURN(wait_for(monitor, is(Kind::kAddressRemoved, "lo", addr("10.77.0.1")), seen), "v4 removed: " + describe(seen));
    // Nothing is reported twice.
    const auto added = std::count_if(seen.begin(), seen.end(), is(Kind::kAddressAdded, "lo", addr("10.77.0.1")));
    CHECK_OR_RETURN(added == 1, "added once: " + describe(seen));
    return "";
  });
  if (r.skipped) GTEST_SKIP() << r.message;
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(NetMonitorLive, LinkUpDefaultRouteAndDad) {
  if (ip_binary() == nullptr) GTEST_SKIP() << "iproute2's ip is not installed";
  const auto r = in_fresh_netns([]() -> std::string {
    IP_OR_RETURN("link", "set", "lo", "up");
    auto opened = NetMonitor::open();
    CHECK_OR_RETURN(opened, "open: " + opened.error().message());
    NetMonitor& monitor = *opened;
    std::vector<NetChange> seen;

    if (auto e = ip({"link", "add", "rv0", "type", "veth", "peer", "name", "rv1"}); !e.empty()) {
      return std::string(kSkip) + e + " (no veth support in this kernel)";
    }
    IP_OR_RETURN("link", "set", "rv1", "up");
    IP_OR_RETURN("link", "set", "rv0", "up");
    CHECK_OR_RETURN(wait_for(monitor, is(Kind::kLinkUp, "rv0"), seen), "rv0 up: " + describe(seen));
    const int rv0 = static_cast<int>(::if_nametoindex("rv0"));

    IP_OR_RETURN("addr", "add", "10.78.0.1/24", "dev", "rv0");
    IP_OR_RETURN("route", "add", "default", "via", "10.78.0.2");
    CHECK_OR_RETURN(wait_for(monitor, is(Kind::kDefaultRouteChanged, "rv0", addr("10.78.0.2")), seen), "route: " + describe(seen));
    auto src = NetMonitor::default_route_source(addr("198.51.100.1"));
    CHECK_OR_RETURN(src, "route lookup: " + src.error().message());
    CHECK_OR_RETURN(src->source == addr("10.78.0.1") && src->ifindex == rv0 && src->gateway == addr("10.78.0.2"),
                    "source via the default route");

    // With DAD: listed as tentative at once, reported only when DAD is over (>= 1 s later).
    IP_OR_RETURN("-6", "addr", "add", "fd00:78::1/64", "dev", "rv0");
    auto all = NetMonitor::current_addresses({.loopback = false, .unusable = true});
    CHECK_OR_RETURN(all, "current_addresses");
    const auto tentative = std::find_if(all->begin(), all->end(), [](const LocalAddress& a) { return a.address == addr("fd00:78::1"); });
    CHECK_OR_RETURN(tentative != all->end() && (tentative->flags & IFA_F_TENTATIVE) != 0 && !tentative->usable(), "tentative");
    for (auto& c : monitor.drain()) seen.push_back(std::move(c));
    CHECK_OR_RETURN(std::none_of(seen.begin(), seen.end(), is(Kind::kAddressAdded, "rv0", addr("fd00:78::1"))), "early");
    CHECK_OR_RETURN(wait_for(monitor, is(Kind::kAddressAdded, "rv0", addr("fd00:78::1")), seen, std::chrono::seconds(8)),
                    "after DAD: " + describe(seen));

    IP_OR_RETURN("route", "del", "default");
    const auto routes_before = std::count_if(seen.begin(), seen.end(), is(Kind::kDefaultRouteChanged, "rv0"));
    CHECK_OR_RETURN(wait_for(monitor, [&](const NetChange&) {
      return std::count_if(seen.begin(), seen.end(), is(Kind::kDefaultRouteChanged, "rv0")) > routes_before;
    }, seen), "route removed: " + describe(seen));
    IP_OR_RETURN("link", "set", "rv0", "down");
    CHECK_OR_RETURN(wait_for(monitor, is(Kind::kLinkDown, "rv0"), seen), "rv0 down: " + describe(seen));
    // IPv6 addresses go with the link by default (keep_addr_on_down=0); IPv4 ones stay.
    CHECK_OR_RETURN(wait_for(monitor, is(Kind::kAddressRemoved, "rv0", addr("fd00:78::1")), seen), "v6 gone: " + describe(seen));
    IP_OR_RETURN("link", "del", "rv0");
    CHECK_OR_RETURN(wait_for(monitor, is(Kind::kAddressRemoved, "rv0", addr("10.78.0.1")), seen), "v4 gone: " + describe(seen));
    return "";
  });
  if (r.skipped) GTEST_SKIP() << r.message;
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(NetMonitorLive, OverflowResyncLosesNothing) {
  if (ip_binary() == nullptr) GTEST_SKIP() << "iproute2's ip is not installed";
  const auto r = in_fresh_netns([]() -> std::string {
    IP_OR_RETURN("link", "set", "lo", "up");
    auto opened = NetMonitor::open();
    CHECK_OR_RETURN(opened, "open: " + opened.error().message());
    NetMonitor& monitor = *opened;
    // The smallest receive buffer the kernel allows, so a burst of 200 additions overflows it.
    const int tiny = 0;
    CHECK_OR_RETURN(::setsockopt(monitor.fd(), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)) == 0, "SO_RCVBUF");
    char path[] = "/tmp/roam-netmon-XXXXXX";
    const int fd = ::mkstemp(path);
    CHECK_OR_RETURN(fd >= 0, "mkstemp");
    std::string batch;
    std::set<SocketAddress> want;
    for (int i = 0; i < 200; ++i) {
      const std::string a = "10.80." + std::to_string(i / 100) + "." + std::to_string(i % 100 + 1);
      batch += "addr add " + a + "/32 dev lo\n";
      want.insert(addr(a.c_str()));
    }
    const bool written = ::write(fd, batch.data(), batch.size()) == static_cast<ssize_t>(batch.size());
    ::close(fd);
    const std::string ran = written ? ip({"-batch", path}) : "write";
    ::unlink(path);
    CHECK_OR_RETURN(ran.empty(), ran);

    std::vector<NetChange> seen;
    std::multiset<SocketAddress> added;
    wait_for(monitor, [&](const NetChange& c) {
      if (c.kind == Kind::kAddressAdded && c.address) added.insert(*c.address);
      return added.size() >= want.size();
    }, seen);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // anything reported twice comes now
    for (const auto& c : monitor.drain()) {
      if (c.kind == Kind::kAddressAdded && c.address) added.insert(*c.address);
    }
    CHECK_OR_RETURN(monitor.resyncs() >= 1, "the burst overflowed the socket");
    CHECK_OR_RETURN(std::set<SocketAddress>(added.begin(), added.end()) == want, "every address reported");
    CHECK_OR_RETURN(added.size() == want.size(), "each once");
    CHECK_OR_RETURN(monitor.state().address_count() == want.size() + 2, "state holds them and 127.0.0.1, ::1");
    return "";
  });
  if (r.skipped) GTEST_SKIP() << r.message;
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(NetMonitor, OpensWithoutPrivilegeAndDrainsWithoutBlocking) {
  auto monitor = NetMonitor::open();
  ASSERT_TRUE(monitor) << monitor.error().message();
  EXPECT_GE(monitor->fd(), 0);
  (void)monitor->drain();  // whatever the host is doing; it must return at once
  NetMonitor moved = std::move(monitor).value();
  EXPECT_GE(moved.fd(), 0);
  moved.close();
  EXPECT_EQ(moved.fd(), -1);
  EXPECT_TRUE(moved.drain().empty());
}

}  // namespace
}  // namespace roam::io
