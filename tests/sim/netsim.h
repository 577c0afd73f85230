// A deterministic discrete-event network simulator in virtual time (roam issue 3).
//
// Nodes are roam Endpoints bound to one or more addresses; links join IPs (ports ignored) in one
// direction each and may delay, jitter, reorder, drop, rate-limit and MTU-limit datagrams (see
// netsim_link.h); a NAT may sit at a host's egress. The driver loop delivers due datagrams
// (Endpoint::on_datagram), runs due timers (Endpoint::on_timeout), drains every endpoint's
// poll_transmit (GSO batches split into datagrams) into the links, and calls the step hooks
// (applications). Events are ordered by (time, sequence), so a run depends only on its seed.
// Nothing sleeps, nothing opens a socket, nothing reads a clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/random.h"
#include "common/socket_address.h"
#include "common/types.h"
#include "endpoint/endpoint.h"
#include "netsim_link.h"

namespace roam::sim {

struct NodeStats {
  std::uint64_t datagrams_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t datagrams_received = 0;
  std::uint64_t bytes_received = 0;
};

class Node {
 public:
  Node(std::string name, std::unique_ptr<endpoint::Endpoint> ep, std::vector<SocketAddress> addresses)
      : name_(std::move(name)), endpoint_(std::move(ep)), addresses_(std::move(addresses)) {}

  const std::string& name() const { return name_; }
  endpoint::Endpoint& endpoint() { return *endpoint_; }
  // Replaces the endpoint, e.g. a server restart that forgot every connection.
  void replace_endpoint(std::unique_ptr<endpoint::Endpoint> ep) { endpoint_ = std::move(ep); }
  const std::vector<SocketAddress>& addresses() const { return addresses_; }
  bool owns(const SocketAddress& a) const;
  const NodeStats& stats() const { return stats_; }

 private:
  friend class Network;
  std::string name_;
  std::unique_ptr<endpoint::Endpoint> endpoint_;
  std::vector<SocketAddress> addresses_;
  NodeStats stats_;
};

// A datagram event as an observer of the whole network sees it (Network::add_tap).
struct WireEvent {
  enum class Kind : std::uint8_t {
    kSent,       // handed to the network (by a node, or injected); `drop` says if it got no further
    kDelivered,  // given to the receiving node's endpoint
  };
  Kind kind = Kind::kSent;
  Instant time{};
  SocketAddress src;  // as on the wire: after the sender's NAT (a spoofed source stays spoofed)
  SocketAddress dst;  // kSent: as addressed; kDelivered: the receiver's address (after its NAT)
  Bytes bytes;        // valid during the call only
  const Node* node = nullptr;  // kSent: the sender (nullptr when injected); kDelivered: the receiver
  const char* drop = nullptr;  // kSent: nullptr if the datagram is on its way, else why it was dropped
};

struct NetworkStats {
  std::uint64_t steps = 0;
  std::uint64_t datagrams_sent = 0;       // handed to the network by endpoints
  std::uint64_t datagrams_delivered = 0;  // given to an endpoint
  std::uint64_t dropped_no_local = 0;     // sent from an address its node does not own
  std::uint64_t dropped_no_route = 0;     // no link between the two IPs
  std::uint64_t dropped_no_node = 0;      // nobody (and no NAT mapping) at the destination
  std::uint64_t datagrams_injected = 0;   // put on the wire by Network::inject
};

class Network {
 public:
  // Virtual time starts at `start` (a non-zero epoch, so "time zero" bugs show).
  explicit Network(std::uint64_t seed, Instant start = Instant{} + std::chrono::seconds(1000));
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  std::uint64_t seed() const { return seed_; }
  Instant now() const { return now_; }
  // A generator derived from the seed and `salt`, owned by the network (stable address), for
  // endpoints and applications. Different salts give independent streams.
  Random& make_random(std::uint64_t salt);

  Node& add_node(std::string name, std::unique_ptr<endpoint::Endpoint> ep, std::vector<SocketAddress> addresses);
  // Gives a node another address, or takes one away (an interface that went down).
  void add_address(Node& node, const SocketAddress& a);
  void remove_address(Node& node, const SocketAddress& a);

  // Links between IPs (ports are ignored); one config per direction.
  void connect(const SocketAddress& a, const SocketAddress& b, const LinkConfig& a_to_b, const LinkConfig& b_to_a);
  void connect(const SocketAddress& a, const SocketAddress& b, const LinkConfig& both) { connect(a, b, both, both); }
  // The link from one IP to another, or nullptr. Its config() may be changed at any time.
  Link* link(const SocketAddress& from, const SocketAddress& to);
  // Datagrams dropped by every link.
  std::uint64_t link_drops() const;

  // A NAT in front of `inside` that presents it as `outside` (see Nat in netsim_link.h).
  Nat& add_nat(const SocketAddress& inside, const SocketAddress& outside);

  // Runs `action` at virtual time `t` (or at the next step if t is past), after deliveries due at
  // the same time that were scheduled earlier.
  void at(Instant t, std::function<void()> action);
  void after(Duration d, std::function<void()> action) { at(now_ + d, std::move(action)); }
  // Called after every step (deliveries and timers), e.g. to pump applications.
  void on_step(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }
  // Called for every datagram sent and delivered: an observer on every link at once (it sees
  // what an on-path attacker or a passive observer would, and when).
  void add_tap(std::function<void(const WireEvent&)> tap) { taps_.push_back(std::move(tap)); }
  // Puts `datagram` on the wire with source `src` (anyone's address: spoofing) towards `dst`,
  // arriving after `delay` without crossing a link (an attacker with its own path). It reaches
  // whichever node owns `dst` (through a NAT mapping too), like any datagram.
  void inject(const SocketAddress& src, const SocketAddress& dst, Bytes datagram, Duration delay);

  // One step: drain transmissions, advance virtual time to the next event if it is not after
  // `deadline`, process every event due then, run due timers, call hooks. False when there was
  // nothing to do before the deadline (time does not move then).
  bool step(Instant deadline);
  // Runs the hooks once (so work queued since the last step starts), then steps until pred()
  // holds (true) or `timeout` of virtual time passed or `max_steps` were taken (false). A loop that makes no progress in virtual time for 1,000,000 steps also ends (false,
  // stalled() is then true).
  bool run_until(const std::function<bool()>& pred, Duration timeout, std::uint64_t max_steps = 20'000'000);
  // Runs the hooks once, then for `d` of virtual time; now() is then exactly the old now() + d.
  void run_for(Duration d);
  bool stalled() const { return stalled_; }

  const NetworkStats& stats() const { return stats_; }
  // Writes one line per datagram event (send, drop, deliver) to `os` (nullptr: off).
  void set_trace(std::ostream* os) { trace_ = os; }

 private:
  struct Delivery {
    SocketAddress src;
    SocketAddress dst;
    std::vector<std::uint8_t> bytes;
  };
  struct Event {
    Instant time;
    std::uint64_t seq;
    std::variant<Delivery, std::function<void()>> what;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };
  using LinkKey = std::pair<SocketAddress, SocketAddress>;

  void run_hooks();
  void tap(const WireEvent& e);
  void push(Event e);
  Event pop();
  void flush(Node& node);
  void send(Node& node, const SocketAddress& local, const SocketAddress& peer, Bytes datagram);
  void deliver(Delivery& d);
  std::optional<Instant> next_event_time() const;

  std::uint64_t seed_;
  Instant now_;
  std::uint64_t next_seq_ = 0;
  std::vector<Event> queue_;  // binary heap ordered by Later
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<LinkKey, std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<Nat>> nats_;
  std::vector<std::unique_ptr<SeededRandom>> randoms_;
  std::vector<std::function<void()>> hooks_;
  std::vector<std::function<void(const WireEvent&)>> taps_;
  std::vector<std::uint8_t> tx_buf_;
  std::uint64_t same_time_steps_ = 0;
  bool stalled_ = false;
  NetworkStats stats_;
  std::ostream* trace_ = nullptr;
};

// Time since the simulation epoch, for messages.
std::string format_duration(Duration d);

}  // namespace roam::sim
