// The connection's qlog events (draft-ietf-quic-qlog-quic-events): packets with their frames,
// losses, recovery metrics, transport parameters, connection ID changes and closing.
#include "conn/connection.h"
#include "wire/frame_rules.h"

namespace roam::conn {

namespace {

std::string_view packet_type_name(int level) {
  switch (level) {
    case 0: return "initial";
    case 1: return "handshake";
    default: return "1RTT";
  }
}

std::string frame_json(const wire::Frame& frame) {
  qlog::Event e;
  const std::uint64_t type = wire::frame_type_of(frame);
  std::visit(
      [&](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, wire::PaddingFrame>) {
          e.field("frame_type", "padding").field("payload_length", static_cast<std::uint64_t>(f.length));
        } else if constexpr (std::is_same_v<T, wire::PingFrame>) {
          e.field("frame_type", "ping");
        } else if constexpr (std::is_same_v<T, wire::AckFrame>) {
          std::string ranges = "[";
          for (const auto& r : f.ranges) {
            if (ranges.size() > 1) ranges += ',';
            ranges += "[" + std::to_string(r.smallest) + "," + std::to_string(r.largest) + "]";
          }
          ranges += "]";
          e.field("frame_type", "ack").raw("acked_ranges", ranges);
        } else if constexpr (std::is_same_v<T, wire::CryptoFrame>) {
          e.field("frame_type", "crypto").field("offset", f.offset).field("length", static_cast<std::uint64_t>(f.data.size()));
        } else if constexpr (std::is_same_v<T, wire::StreamFrame>) {
          e.field("frame_type", "stream")
              .field("stream_id", f.stream_id.value)
              .field("offset", f.offset)
              .field("length", static_cast<std::uint64_t>(f.data.size()))
              .field("fin", f.fin);
        } else if constexpr (std::is_same_v<T, wire::NewConnectionIdFrame>) {
          e.field("frame_type", "new_connection_id")
              .field("sequence_number", f.seq)
              .field("retire_prior_to", f.retire_prior_to)
              .field("connection_id", f.cid.hex())
              .field("stateless_reset_token", to_hex(f.reset_token));
        } else if constexpr (std::is_same_v<T, wire::RetireConnectionIdFrame>) {
          e.field("frame_type", "retire_connection_id").field("sequence_number", f.seq);
        } else if constexpr (std::is_same_v<T, wire::PathChallengeFrame>) {
          e.field("frame_type", "path_challenge").field("data", to_hex(f.data));
        } else if constexpr (std::is_same_v<T, wire::PathResponseFrame>) {
          e.field("frame_type", "path_response").field("data", to_hex(f.data));
        } else if constexpr (std::is_same_v<T, wire::ConnectionCloseFrame>) {
          e.field("frame_type", "connection_close")
              .field("error_space", f.application ? "application" : "transport")
              .field("error_code", f.error_code)
              .field("reason", std::string_view(reinterpret_cast<const char*>(f.reason.data()), f.reason.size()));
        } else if constexpr (std::is_same_v<T, wire::MaxDataFrame>) {
          e.field("frame_type", "max_data").field("maximum", f.max);
        } else if constexpr (std::is_same_v<T, wire::MaxStreamDataFrame>) {
          e.field("frame_type", "max_stream_data").field("stream_id", f.stream_id.value).field("maximum", f.max);
        } else if constexpr (std::is_same_v<T, wire::HandshakeDoneFrame>) {
          e.field("frame_type", "handshake_done");
        } else {
          e.field("frame_type", wire::frame_type_name(type));
        }
      },
      frame);
  return e.take();
}

std::string frames_json(Bytes payload, wire::PacketType pt) {
  std::string out = "[";
  (void)wire::for_each_frame(payload, pt, [&](wire::Frame& f) {
    if (out.size() > 1) out += ',';
    out += frame_json(f);
  });
  out += "]";
  return out;
}

}  // namespace

void Connection::push_event(Event e) {
  if (qlog_) {
    if (const auto* c = std::get_if<ConnectionClosed>(&e)) {
      qlog::Event d;
      d.field("initiator", c->by_peer ? "remote" : "local");
      if (c->application) {
        d.field("application_code", c->error_code);
      } else {
        d.field("connection_code", c->error_code);
      }
      if (c->idle_timeout) d.field("trigger", "idle_timeout");
      if (c->stateless_reset) d.field("trigger", "stateless_reset");
      d.field("reason", c->reason);
      qlog_->emit(now_hint_, "connection_closed", d.take());
    }
  }
  events_.push_back(std::move(e));
}

void Connection::start_qlog(Instant now) {
  if (!config_.qlog_sink_factory) return;
  auto sink = config_.qlog_sink_factory(original_dcid_, side_ == Side::kServer);
  if (!sink) return;
  qlog_ = std::make_unique<qlog::Writer>(std::move(sink), side_ == Side::kServer, original_dcid_.hex(), now);
  qlog::Event d;
  d.field("ip_version", active_->local.is_ipv4() ? "ipv4" : "ipv6")
      .field("src_ip", active_->local.ip_string())
      .field("src_port", static_cast<std::uint64_t>(active_->local.port()))
      .field("dst_ip", active_->peer.ip_string())
      .field("dst_port", static_cast<std::uint64_t>(active_->peer.port()));
  qlog_->emit(now, "connection_started", d.take());
  qlog_parameters(now, true, local_transport_params());
}

void Connection::qlog_parameters(Instant now, bool local, const wire::TransportParameters& tp) {
  if (!qlog_) return;
  qlog::Event d;
  d.field("initiator", local ? "local" : "remote")
      .field("max_idle_timeout", tp.max_idle_timeout_ms)
      .field("max_udp_payload_size", tp.max_udp_payload_size)
      .field("ack_delay_exponent", tp.ack_delay_exponent)
      .field("max_ack_delay", tp.max_ack_delay_ms)
      .field("active_connection_id_limit", tp.active_connection_id_limit)
      .field("initial_max_data", tp.initial_max_data)
      .field("initial_max_stream_data_bidi_local", tp.initial_max_stream_data_bidi_local)
      .field("initial_max_stream_data_bidi_remote", tp.initial_max_stream_data_bidi_remote)
      .field("initial_max_stream_data_uni", tp.initial_max_stream_data_uni)
      .field("initial_max_streams_bidi", tp.initial_max_streams_bidi)
      .field("initial_max_streams_uni", tp.initial_max_streams_uni)
      .field("disable_active_migration", tp.disable_active_migration);
  if (tp.initial_source_connection_id) d.field("initial_source_connection_id", tp.initial_source_connection_id->hex());
  qlog_->emit(now, "parameters_set", d.take());
}

void Connection::qlog_packet(Instant now, bool sent, Level level, std::uint64_t pn, std::size_t size, Bytes payload,
                             PathId path) {
  if (!qlog_) return;
  const auto pt = level == Level::kInitial     ? wire::PacketType::kInitial
                  : level == Level::kHandshake ? wire::PacketType::kHandshake
                                               : wire::PacketType::kOneRtt;
  qlog::Event header;
  header.field("packet_type", packet_type_name(static_cast<int>(level))).field("packet_number", pn);
  if (level == Level::kApplication && app_keys_) {
    header.field("key_phase", static_cast<std::uint64_t>(sent ? app_keys_->write_generation() & 1
                                                               : app_keys_->read_generation() & 1));
  }
  qlog::Event d;
  d.raw("header", header.take())
      .raw("frames", frames_json(payload, pt))
      .raw("raw", qlog::Event().field("length", static_cast<std::uint64_t>(size)).take());
  qlog_->emit(now, sent ? "packet_sent" : "packet_received", d.take(),
              path.value == 0 ? std::string() : std::to_string(path.value));
}

void Connection::qlog_lost(Instant now, const recovery::SentPacket& p) {
  if (!qlog_) return;
  qlog::Event d;
  d.raw("header", qlog::Event().field("packet_number", p.pn).take());
  qlog_->emit(now, "packet_lost", d.take());
}

void Connection::qlog_metrics(Instant now) {
  if (!qlog_) return;
  const auto& rtt = active_->recovery->rtt();
  const auto& cc = active_->recovery->cc();
  auto ms = [](Duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  qlog::Event d;
  d.field("min_rtt", ms(rtt.min_rtt()))
      .field("smoothed_rtt", ms(rtt.smoothed_rtt()))
      .field("latest_rtt", ms(rtt.latest_rtt()))
      .field("rtt_variance", ms(rtt.rttvar()))
      .field("congestion_window", static_cast<std::uint64_t>(cc.cwnd()))
      .field("bytes_in_flight", static_cast<std::uint64_t>(cc.bytes_in_flight()));
  qlog_->emit(now, "recovery_metrics_updated", d.take());
}

namespace {

// TupleEndpointInfo (qlog QUIC events): the address and the CIDs used towards it.
std::string tuple_endpoint(const SocketAddress& a, const ConnectionId* cid) {
  qlog::Event e;
  if (a.is_ipv4()) {
    e.field("ip_v4", a.ip_string()).field("port_v4", static_cast<std::uint64_t>(a.port()));
  } else {
    e.field("ip_v6", a.ip_string()).field("port_v6", static_cast<std::uint64_t>(a.port()));
  }
  if (cid) e.raw("connection_ids", "[\"" + cid->hex() + "\"]");
  return e.take();
}

}  // namespace

void Connection::qlog_tuple(Instant now, const Path& path, bool abandoned) {
  if (!qlog_) return;
  qlog::Event d;
  d.field("tuple_id", std::to_string(path.id.value));
  if (!abandoned) {
    d.raw("tuple_remote", tuple_endpoint(path.peer, &path.dcid))
        .raw("tuple_local", tuple_endpoint(path.local, path.last_local_cid.empty() ? nullptr : &path.last_local_cid));
  }
  qlog_->emit(now, "tuple_assigned", d.take());
}

void Connection::qlog_mtu(Instant now, const Path& path) {
  if (!qlog_) return;
  qlog::Event d;
  d.field("new", static_cast<std::uint64_t>(path.max_datagram())).field("done", !path.pmtu.searching());
  qlog_->emit(now, "mtu_updated", d.take());
}

void Connection::qlog_migration(Instant now, std::string_view state, const Path& path) {
  if (!qlog_) return;
  qlog::Event d;
  d.field("new", std::string(state))
      .field("tuple_id", std::to_string(path.id.value))
      .raw("tuple_remote", tuple_endpoint(path.peer, &path.dcid))
      .raw("tuple_local", tuple_endpoint(path.local, nullptr));
  qlog_->emit(now, "migration_state_updated", d.take());
}

}  // namespace roam::conn
