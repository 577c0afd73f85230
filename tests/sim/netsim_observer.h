// A passive observer of the whole simulated network (Network::add_tap), seeing what an on-path
// observer or the QUIC interop runner's capture sees: every datagram sent and delivered with its
// 4-tuple and, for short-header packets, the Destination Connection ID. Given the 1-RTT traffic
// secrets from a TLS key log (the way the interop runner decrypts its pcaps), it also decrypts
// 1-RTT packets and lists their frames, so scenarios can check which frames went on which path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/socket_address.h"
#include "common/types.h"
#include "crypto/algorithms.h"
#include "crypto/packet_keys.h"
#include "netsim.h"

namespace roam::sim {

// An unordered pair of addresses: the path a datagram took, whichever way it went.
struct PathKey {
  SocketAddress a;
  SocketAddress b;
  static PathKey of(const SocketAddress& x, const SocketAddress& y);
  friend bool operator==(const PathKey&, const PathKey&) = default;
  friend bool operator<(const PathKey& l, const PathKey& r);
  std::string to_string() const;
};

struct ObservedPacket {
  Instant time{};
  bool delivered = false;      // a delivery to node; otherwise a send by node
  const Node* node = nullptr;  // sender (nullptr: injected) or receiver
  SocketAddress src;
  SocketAddress dst;
  std::size_t datagram_size = 0;
  // The datagram's short-header (1-RTT) packet, if it has one (after any coalesced long ones).
  bool short_header = false;
  ConnectionId dcid;
  // With keys: whether the 1-RTT packet authenticated, its packet number and frame types in
  // order (all STREAM variants as 0x08, ACK_ECN as 0x02).
  bool decrypted = false;
  std::uint64_t pn = 0;
  std::vector<std::uint64_t> frames;
  bool has_frame(std::uint64_t type) const;
  // Only PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and PADDING (RFC 9000 9.1).
  bool probing_only() const;
  PathKey path() const { return PathKey::of(src, dst); }
};

// The 1-RTT secrets of one connection, read from an NSS key log file.
struct OneRttSecrets {
  std::basic_string<std::uint8_t> client;
  std::basic_string<std::uint8_t> server;
};
// The first CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0 lines of `path`.
Result<OneRttSecrets> read_keylog_secrets(const std::string& path);

class WireObserver {
 public:
  // `server` tells the directions apart: what it sends is decrypted with the server's keys,
  // anything else (the client's datagrams, injected copies) with the client's.
  // `cid_length`: the length of the short-header DCIDs (both sides use the same in scenarios).
  WireObserver(Network& net, const Node& server, std::size_t cid_length = 8);
  WireObserver(const WireObserver&) = delete;
  WireObserver& operator=(const WireObserver&) = delete;

  // Decrypt 1-RTT packets from now on (sends only; a delivery is a copy of its send).
  Status set_keys(const OneRttSecrets& secrets, crypto::AeadAlgorithm aead);
  // The same from a key log file, read when the first 1-RTT packet is seen (the client writes
  // its secrets during the handshake, before any 1-RTT packet leaves), so nothing is missed.
  void set_keylog(std::string path, crypto::AeadAlgorithm aead);
  bool has_keys() const { return client_keys_.has_value(); }
  // Records nothing while off (long runs that need no record).
  void set_recording(bool on) { recording_ = on; }
  void set_record_deliveries(bool on) { record_deliveries_ = on; }

  const std::vector<ObservedPacket>& packets() const { return packets_; }
  void clear() { packets_.clear(); }
  std::uint64_t decrypt_failures() const { return decrypt_failures_; }

 private:
  void on_event(const WireEvent& e);
  // Decrypts the short-header packet at `offset` of a copy of the datagram.
  void decrypt(ObservedPacket& p, Bytes datagram, std::size_t offset, bool from_client);

  const Node* server_;
  std::size_t cid_length_;
  bool recording_ = true;
  bool record_deliveries_ = true;
  std::string keylog_path_;
  crypto::AeadAlgorithm keylog_aead_ = crypto::AeadAlgorithm::kAes128Gcm;
  std::optional<crypto::PacketKeys> client_keys_;
  std::optional<crypto::PacketKeys> server_keys_;
  std::optional<std::uint64_t> largest_client_pn_;
  std::optional<std::uint64_t> largest_server_pn_;
  std::vector<std::uint8_t> scratch_;
  std::vector<ObservedPacket> packets_;
  std::uint64_t decrypt_failures_ = 0;
};

}  // namespace roam::sim
