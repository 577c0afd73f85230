#!/usr/bin/env python3
"""Checks tshark's decode of one captured roam perf transfer (PDML on stdin or in a file).

  tshark -r CAP -o tls.keylog_file:KEYS -T pdml | tshark_check.py --server-port P --perf N

Asserts, and prints a summary of:
  - every UDP datagram dissects as QUIC, every QUIC packet had its header protection removed and
    its payload decrypted (no quic.remaining_payload), in Initial, Handshake and 1-RTT both ways;
  - the TLS 1.3 handshake messages were decrypted (ClientHello ... both Finished);
  - the client's request is stream 0 = 8-byte big-endian N with FIN; the server's stream 0 data
    covers [0, N) exactly, every byte equals the perf pattern at its offset, and FIN is at N;
  - HANDSHAKE_DONE from the server, the client's application CONNECTION_CLOSE with code 0;
  - no malformed packet and no expert info of severity Warning or Error.
Exit 0 when all hold, 1 otherwise.
"""
import argparse
import collections
import sys
import xml.etree.ElementTree as ET

SEVERITY = {0x00100000: "Comment", 0x00200000: "Chat", 0x00400000: "Note", 0x00600000: "Warning",
            0x00800000: "Error"}
WARNING = 0x00600000
TLS_MESSAGES = {1: "ClientHello", 2: "ServerHello", 8: "EncryptedExtensions", 11: "Certificate",
                15: "CertificateVerify", 20: "Finished"}


def perf_pattern(n):
    # roam::apps::perf_byte(offset) = (offset*131) ^ (offset>>9) ^ (offset>>17), low 8 bits.
    return bytes(((o * 131) ^ (o >> 9) ^ (o >> 17)) & 0xFF for o in range(n))


def children(elem, name):
    return [c for c in elem.iter("field") if c.get("name") == name]


def first(elem, name):
    for c in elem.iter("field"):
        if c.get("name") == name:
            return c
    return None


class Stream:
    def __init__(self):
        self.data = {}  # offset -> bytes (as decoded by tshark)
        self.fin_at = None
        self.frames = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-port", type=int, required=True)
    ap.add_argument("--perf", type=int, required=True, help="bytes the client requested")
    ap.add_argument("pdml", nargs="?", default="-")
    args = ap.parse_args()
    src = sys.stdin.buffer if args.pdml == "-" else open(args.pdml, "rb")

    datagrams = 0
    not_quic = []
    packets = collections.Counter()          # (direction, packet type) -> QUIC packets
    undecrypted = []                         # (frame number, direction, packet type)
    frame_types = collections.Counter()      # (direction, frame name) -> frames
    tls_messages = collections.Counter()
    expert = collections.Counter()           # (severity name, message) -> count
    bad_expert = []
    malformed = []
    streams = {"c2s": collections.defaultdict(Stream), "s2c": collections.defaultdict(Stream)}
    closes = []                              # (direction, showname)

    for _, pkt in ET.iterparse(src, events=("end",)):
        if pkt.tag != "packet":
            continue
        number = srcport = None
        protos = pkt.findall("proto")
        for p in protos:
            if p.get("name") == "frame":
                f = first(p, "frame.number")
                number = int(f.get("show")) if f is not None else None
            if p.get("name") == "udp":
                f = first(p, "udp.srcport")
                srcport = int(f.get("show")) if f is not None else None
        if srcport is None:
            pkt.clear()
            continue
        datagrams += 1
        direction = "s2c" if srcport == args.server_port else "c2s"
        quic_protos = [p for p in protos if p.get("name") == "quic"]
        if not quic_protos:
            not_quic.append(number)
        for p in protos:
            if p.get("name") == "_ws.malformed":
                malformed.append((number, p.get("showname")))
        for e in pkt.iter("field"):
            if e.get("name") != "_ws.expert":
                continue
            sev_field = first(e, "_ws.expert.severity")
            sev = int(sev_field.get("show")) if sev_field is not None else 0
            msg_field = first(e, "_ws.expert.message")
            msg = msg_field.get("show") if msg_field is not None else e.get("showname")
            expert[(SEVERITY.get(sev, hex(sev)), msg)] += 1
            if sev >= WARNING:
                bad_expert.append((number, SEVERITY.get(sev, hex(sev)), msg))
        for q in quic_protos:
            if first(q, "quic.short") is not None:
                ptype = "1-RTT"
            else:
                t = first(q, "quic.long.packet_type")
                ptype = {"0": "Initial", "1": "0-RTT", "2": "Handshake", "3": "Retry"}.get(
                    t.get("show") if t is not None else "", "?")
            packets[(direction, ptype)] += 1
            if ptype != "Retry" and (first(q, "quic.packet_number") is None or
                                     first(q, "quic.remaining_payload") is not None):
                undecrypted.append((number, direction, ptype))
            for fr in children(q, "quic.frame"):
                name = (fr.get("showname") or "?").split(" ")[0]
                frame_types[(direction, name)] += 1
                if name.startswith("CONNECTION_CLOSE"):
                    closes.append((direction, fr.get("showname")))
                if name != "STREAM":
                    continue
                sid = int(first(fr, "quic.stream.stream_id").get("show"))
                off_f = first(fr, "quic.stream.offset")
                off = int(off_f.get("show")) if off_f is not None else 0
                data_f = first(fr, "quic.stream_data")
                data = bytes.fromhex(data_f.get("value")) if data_f is not None else b""
                fin_f = first(fr, "quic.stream.fin")
                st = streams[direction][sid]
                st.frames += 1
                if off in st.data and st.data[off] != data[:len(st.data[off])] \
                        and data != st.data[off][:len(data)]:
                    print(f"FAIL frame {number}: stream {sid} data at offset {off} differs from an "
                          "earlier frame at the same offset")
                if len(data) >= len(st.data.get(off, b"")):
                    st.data[off] = data
                if fin_f is not None and fin_f.get("show") in ("1", "True"):
                    st.fin_at = off + len(data)
        for f in pkt.iter("field"):
            if f.get("name") == "tls.handshake.type":
                tls_messages[int(f.get("show"))] += 1
        pkt.clear()

    fail = []
    ok = []

    def check(cond, what):
        (ok if cond else fail).append(what)

    total_quic = sum(packets.values())
    check(datagrams > 0, f"{datagrams} UDP datagrams captured")
    check(not not_quic, f"every datagram dissected as QUIC (not QUIC: {not_quic[:10]})")
    check(not undecrypted,
          f"all {total_quic} QUIC packets decrypted (failed: {len(undecrypted)}, first {undecrypted[:5]})")
    for d in ("c2s", "s2c"):
        for t in ("Initial", "Handshake", "1-RTT"):
            check(packets[(d, t)] > 0, f"{d} {t} packets: {packets[(d, t)]}")
    for t, name in TLS_MESSAGES.items():
        want = 2 if t == 20 else 1
        check(tls_messages[t] >= want, f"TLS {name} decrypted ({tls_messages[t]}x)")

    n = args.perf
    req = streams["c2s"].get(0)
    req_bytes = b"".join(v for _, v in sorted(req.data.items())) if req else b""
    check(req is not None and req_bytes == n.to_bytes(8, "big") and req.fin_at == 8,
          f"client request on stream 0 = {req_bytes.hex() or 'none'} with FIN at "
          f"{req.fin_at if req else None} (want {n:016x}, FIN at 8)")
    resp = streams["s2c"].get(0)
    if resp is None:
        check(False, "server response on stream 0 captured")
    else:
        covered = 0   # bytes [0, covered) seen contiguously
        mismatched = 0
        pattern = perf_pattern(n)
        for off, data in sorted(resp.data.items()):
            if off > covered:
                break
            end = off + len(data)
            if end > n:
                mismatched += end - n
            seg = pattern[off:min(end, n)]
            mismatched += sum(1 for a, b in zip(data, seg) if a != b)
            covered = max(covered, end)
        check(covered == n, f"server stream 0 data covers [0, {covered}) of [0, {n}) "
                            f"in {resp.frames} STREAM frames")
        check(mismatched == 0, f"server stream 0 bytes equal the perf pattern ({mismatched} differ)")
        check(resp.fin_at == n, f"server FIN at offset {resp.fin_at} (want {n})")
    check(frame_types[("s2c", "HANDSHAKE_DONE")] == 1,
          f"server sent HANDSHAKE_DONE ({frame_types[('s2c', 'HANDSHAKE_DONE')]}x)")
    app_close = [c for d, c in closes if d == "c2s" and "(Application)" in c]
    check(any(c.endswith("Error code: 0") for c in app_close),
          f"client closed with an application CONNECTION_CLOSE, code 0 ({app_close[:1]})")
    check(not malformed, f"no malformed packets ({malformed[:5]})")
    check(not bad_expert, f"no expert info of severity Warning or Error ({bad_expert[:5]})")

    print("== tshark decode summary ==")
    print("QUIC packets by direction and type:")
    for (d, t), c in sorted(packets.items()):
        print(f"  {d} {t:9} {c}")
    print("frames by direction and type:")
    for (d, t), c in sorted(frame_types.items()):
        print(f"  {d} {t:24} {c}")
    print("expert infos (all severities): " +
          (", ".join(f"{s}: {m} x{c}" for (s, m), c in sorted(expert.items())) or "none"))
    for w in ok:
        print(f"ok   {w}")
    for w in fail:
        print(f"FAIL {w}")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
