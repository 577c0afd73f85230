#include "netsim_observer.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>

#include "crypto/packet_protection.h"
#include "wire/frame_rules.h"
#include "wire/frames.h"
#include "wire/packet_header.h"

namespace roam::sim {

PathKey PathKey::of(const SocketAddress& x, const SocketAddress& y) {
  // A stable order independent of the direction: by text, which is total and cheap enough here.
  return x.to_string() <= y.to_string() ? PathKey{x, y} : PathKey{y, x};
}

bool operator<(const PathKey& l, const PathKey& r) {
  return std::make_tuple(l.a.to_string(), l.b.to_string()) < std::make_tuple(r.a.to_string(), r.b.to_string());
}

std::string PathKey::to_string() const { return a.to_string() + "<->" + b.to_string(); }

bool ObservedPacket::has_frame(std::uint64_t type) const {
  return std::find(frames.begin(), frames.end(), type) != frames.end();
}

bool ObservedPacket::probing_only() const {
  return decrypted && std::all_of(frames.begin(), frames.end(), [](std::uint64_t t) { return wire::is_probing_frame(t); });
}

Result<OneRttSecrets> read_keylog_secrets(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{TransportError::kInternalError, "cannot open key log"};
  OneRttSecrets s;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string label, random, secret;
    if (!(ls >> label >> random >> secret)) continue;
    std::basic_string<std::uint8_t>* out = nullptr;
    if (label == "CLIENT_TRAFFIC_SECRET_0") out = &s.client;
    if (label == "SERVER_TRAFFIC_SECRET_0") out = &s.server;
    if (!out || !out->empty()) continue;
    if (!from_hex(secret, *out)) return Error{TransportError::kInternalError, "bad hex in key log"};
  }
  if (s.client.empty() || s.server.empty()) return Error{TransportError::kInternalError, "no 1-RTT secrets in key log"};
  return s;
}

WireObserver::WireObserver(Network& net, const Node& server, std::size_t cid_length)
    : server_(&server), cid_length_(cid_length) {
  net.add_tap([this](const WireEvent& e) { on_event(e); });
}

Status WireObserver::set_keys(const OneRttSecrets& secrets, crypto::AeadAlgorithm aead) {
  auto c = crypto::derive_packet_keys(aead, Bytes(secrets.client.data(), secrets.client.size()));
  if (!c) return c.error();
  auto s = crypto::derive_packet_keys(aead, Bytes(secrets.server.data(), secrets.server.size()));
  if (!s) return s.error();
  client_keys_.emplace(std::move(c).value());
  server_keys_.emplace(std::move(s).value());
  return {};
}

void WireObserver::set_keylog(std::string path, crypto::AeadAlgorithm aead) {
  keylog_path_ = std::move(path);
  keylog_aead_ = aead;
}

void WireObserver::on_event(const WireEvent& e) {
  if (!recording_) return;
  const bool delivered = e.kind == WireEvent::Kind::kDelivered;
  if (delivered && !record_deliveries_) return;
  ObservedPacket p;
  p.time = e.time;
  p.delivered = delivered;
  p.node = e.node;
  p.src = e.src;
  p.dst = e.dst;
  p.datagram_size = e.bytes.size();
  // Walk coalesced packets to the short-header one (always last in a datagram).
  std::size_t off = 0;
  while (off < e.bytes.size()) {
    auto hdr = wire::parse_packet_header(e.bytes.subspan(off), cid_length_);
    if (!hdr) break;
    if (hdr->type == wire::PacketType::kOneRtt) {
      p.short_header = true;
      p.dcid = hdr->dcid;
      if (!client_keys_ && !keylog_path_.empty()) {
        if (auto secrets = read_keylog_secrets(keylog_path_); secrets && set_keys(*secrets, keylog_aead_)) {
          keylog_path_.clear();
        }
      }
      if (!delivered && client_keys_) {
        // Anything not sent by the server is taken to be the client's: injected datagrams are
        // copies of the client's in the attacker scenarios.
        decrypt(p, e.bytes, off, e.node != server_);
      }
      break;
    }
    off += std::max<std::size_t>(hdr->packet_size, 1);
  }
  packets_.push_back(std::move(p));
}

void WireObserver::decrypt(ObservedPacket& p, Bytes datagram, std::size_t offset, bool from_client) {
  const crypto::PacketKeys& keys = from_client ? *client_keys_ : *server_keys_;
  std::optional<std::uint64_t>& largest = from_client ? largest_client_pn_ : largest_server_pn_;
  scratch_.assign(datagram.begin() + static_cast<std::ptrdiff_t>(offset), datagram.end());
  MutBytes pkt(scratch_.data(), scratch_.size());
  const std::size_t pn_offset = 1 + cid_length_;
  auto uh = crypto::remove_header_protection(*keys.header_protector, pkt, pn_offset, largest.value_or(0),
                                             largest.has_value());
  if (!uh) {
    ++decrypt_failures_;
    return;
  }
  auto payload = crypto::decrypt_payload(keys, pkt, uh->header_len, uh->packet_number);
  if (!payload) {
    ++decrypt_failures_;  // a key update, or a forged packet
    return;
  }
  // A replayed copy decrypts too; it must not move the decoding window backwards.
  if (!largest || uh->packet_number > *largest) largest = uh->packet_number;
  p.decrypted = true;
  p.pn = uh->packet_number;
  (void)wire::for_each_frame(*payload, wire::PacketType::kOneRtt, [&](wire::Frame& f) {
    std::uint64_t t = wire::frame_type_of(f);
    if (t >= wire::frame_type::kStream && t <= wire::frame_type::kStreamMax) t = wire::frame_type::kStream;
    if (t == wire::frame_type::kAckEcn) t = wire::frame_type::kAck;
    p.frames.push_back(t);
  });
}

}  // namespace roam::sim
