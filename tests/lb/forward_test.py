#!/usr/bin/env python3
"""roam-lb over loopback: clients -> roam-lb -> two fake backends (written here) and back.

The backends parse the encapsulation header independently of the C++ codec (the layout is in
src/lb/encap.h and docs/load-balancing.md), record what arrived and echo the payload back behind
the same header. Asserts, byte for byte:
  - a short header whose CID names a server reaches that backend, whatever client sent it, with
    the client's address and the listen address in the header, and the reply reaches that client;
  - CIDs of two configs (a rotation in progress) both route;
  - an unroutable Initial and its retransmission from another port reach the same backend, and a
    second roam-lb instance with the backends listed in another order picks the same one;
  - an unknown server ID falls back instead of being dropped;
  - datagrams on the backend socket from a non-backend, or with a broken header, reach no client;
  - SIGHUP reloads the settings (a server ID moved to another backend);
  - the counters printed at exit agree.
Usage: forward_test.py DIR_WITH_ROAM_LB
"""
import os
import random
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

KEY = "8f95f09245765f80256934e50c66207f"
FALLBACK_KEY = "000102030405060708090a0b0c0d0e0f"
WAIT = 2.0  # seconds to wait for any one datagram

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def parse_encap(data):
    """(client (ip, port), listen (ip, port), payload) or None; family 4 or 6 per nibble."""
    if len(data) < 6 or data[0] != 1:
        return None
    fams = (data[1] >> 4, data[1] & 0x0F)
    if any(f not in (4, 6) for f in fams):
        return None
    cport = int.from_bytes(data[2:4], "big")
    lport = int.from_bytes(data[4:6], "big")
    off = 6
    addrs = []
    for fam in fams:
        n = 4 if fam == 4 else 16
        if len(data) < off + n:
            return None
        ip = socket.inet_ntop(socket.AF_INET if fam == 4 else socket.AF_INET6, data[off:off + n])
        addrs.append(ip)
        off += n
    return (addrs[0], cport), (addrs[1], lport), data[off:]


def build_encap(client, listen, payload):
    def fam(ip):
        return 6 if ":" in ip else 4

    def ipb(ip):
        return socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)

    return (bytes([1, fam(client[0]) << 4 | fam(listen[0])]) + client[1].to_bytes(2, "big") +
            listen[1].to_bytes(2, "big") + ipb(client[0]) + ipb(listen[0]) + payload)


class Backend:
    def __init__(self, name):
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.addr = self.sock.getsockname()
        self.received = []  # (client, listen, payload, lb_source)

    def pump(self):
        """Receive what is waiting, record it, echo it back behind the same header."""
        while True:
            r, _, _ = select.select([self.sock], [], [], 0)
            if not r:
                return
            data, src = self.sock.recvfrom(65535)
            parsed = parse_encap(data)
            if parsed is None:
                self.received.append((None, None, data, src))
                continue
            client, listen, payload = parsed
            self.received.append((client, listen, payload, src))
            self.sock.sendto(build_encap(client, listen, b"echo:" + payload), src)


def start_lb(lb, args):
    proc = subprocess.Popen([lb] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    r, _, _ = select.select([proc.stdout], [], [], 10)
    line = proc.stdout.readline() if r else ""
    # "roam-lb: listening on 127.0.0.1:P, backend socket 0.0.0.0:Q, 2 backends, configs ..."
    if "listening on " not in line:
        proc.kill()
        raise RuntimeError("roam-lb did not start: %r" % line)
    listen = line.split("listening on ")[1].split(",")[0]
    source = line.split("backend socket ")[1].split(",")[0]
    host, port = listen.rsplit(":", 1)
    return proc, (host.strip("[]"), int(port)), int(source.rsplit(":", 1)[1])


def encode(lb, conf, config_id, server_id, count):
    out = subprocess.run([lb, "encode", "--config", conf, "--config-id", str(config_id), "--server-id", server_id,
                          "--count", str(count)], check=True, capture_output=True, text=True, timeout=10).stdout
    return [bytes.fromhex(x) for x in out.split()]


class Client:
    def __init__(self, family=socket.AF_INET, host="127.0.0.1"):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.addr = self.sock.getsockname()[:2]

    def recv(self, timeout=WAIT):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None
        data, src = self.sock.recvfrom(65535)
        return data, src[:2]


def exchange(client, lb_addr, backends, packet, timeout=WAIT):
    """Sends packet; pumps the backends until one got it and the echo reached the client.
    Returns (backend or None, its record, the reply (data, src) or None)."""
    marks = {b.name: len(b.received) for b in backends}
    client.sock.sendto(packet, lb_addr)
    deadline = time.time() + timeout
    hit = record = None
    while time.time() < deadline and hit is None:
        select.select([b.sock for b in backends], [], [], 0.05)
        for b in backends:
            b.pump()
            if len(b.received) > marks[b.name] and hit is None:
                hit, record = b, b.received[marks[b.name]]
    reply = client.recv(timeout) if hit is not None else None
    return hit, record, reply


def short_header(cid, rng):
    return bytes([0x40 | rng.randrange(64)]) + cid + rng.randbytes(40)


def initial(dcid, rng):
    body = bytes([0xC3]) + (1).to_bytes(4, "big") + bytes([len(dcid)]) + dcid + bytes([8]) + rng.randbytes(8)
    return body + rng.randbytes(1200 - len(body))


def main():
    lb = os.path.join(sys.argv[1], "roam-lb")
    rng = random.Random(1)
    b1, b2 = Backend("b1"), Backend("b2")
    backends = [b1, b2]
    tmp = tempfile.mkdtemp()
    conf = os.path.join(tmp, "lb.conf")

    def write_conf(hosts):
        with open(conf, "w") as f:
            f.write("config id=0 server-id-len=3 nonce-len=5 key=%s\n" % KEY)
            f.write("config id=1 server-id-len=3 nonce-len=4\n")  # plaintext: a rotation in progress
            for host, b in hosts:
                f.write("backend %s=127.0.0.1:%d\n" % (host, b.addr[1]))
            f.write("fallback-key %s\n" % FALLBACK_KEY)

    write_conf([("0a01", b1), ("0b02", b2)])
    procs = []
    try:
        proc, lb_addr, source_port = start_lb(lb, ["--listen", "127.0.0.1:0", "--config", conf])
        procs.append(proc)
        a, b, c = Client(), Client(), Client()

        # 1. Routable short headers: the backend the CID names, whoever sends.
        cids = {("b1", 0): encode(lb, conf, 0, "0a0107", 3), ("b2", 0): encode(lb, conf, 0, "0b0201", 3),
                ("b1", 1): encode(lb, conf, 1, "0a0109", 2), ("b2", 1): encode(lb, conf, 1, "0b0200", 2)}
        routed = 0
        for (want, config), list_ in cids.items():
            for cid in list_:
                for client in (a, b):
                    pkt = short_header(cid, rng)
                    hit, rec, reply = exchange(client, lb_addr, backends, pkt)
                    good = (hit is not None and hit.name == want and rec[0] == client.addr and rec[1] == lb_addr and
                            rec[2] == pkt and rec[3][1] == source_port and reply == (b"echo:" + pkt, lb_addr))
                    routed += good
                    if not good:
                        check(False, "config %d CID %s from %s -> %s: got %s %s reply %s" %
                              (config, cid.hex(), client.addr, want, hit and hit.name, rec, reply))
        check(routed == 20, "20 routable short headers reached the backend their CID names, replies came back "
                            "to the sender (configs 0 and 1)")

        # 2. Unroutable Initials: the DCID decides, not the client's port.
        same = 0
        spread = set()
        initials = []
        for i in range(12):
            dcid = bytes([0xE0 | rng.randrange(32)]) + rng.randbytes(7)  # 0b111: unroutable
            first, rec1, rep1 = exchange(a, lb_addr, backends, initial(dcid, rng))
            again, rec2, rep2 = exchange(c, lb_addr, backends, initial(dcid, rng))
            ok = (first is not None and again is first and rec1[0] == a.addr and rec2[0] == c.addr and
                  rep1 is not None and rep2 is not None and rep1[1] == lb_addr)
            same += ok
            spread.add(first and first.name)
            initials.append((dcid, first and first.name))
        check(same == 12, "12 unroutable Initials and their retransmissions from another port reached one backend")
        check(spread == {"b1", "b2"}, "the fallback hash used both backends (%s)" % sorted(map(str, spread)))

        # 3. A second instance, backends listed the other way round: the same choices.
        conf2 = os.path.join(tmp, "lb2.conf")
        with open(conf2, "w") as f:
            f.write("fallback-key %s\n" % FALLBACK_KEY)
            f.write("backend 0b02=127.0.0.1:%d\n" % b2.addr[1])
            f.write("config id=1 server-id-len=3 nonce-len=4\n")
            f.write("backend 0a01=127.0.0.1:%d\n" % b1.addr[1])
            f.write("config id=0 server-id-len=3 nonce-len=5 key=%s\n" % KEY)
        proc2, lb2_addr, _ = start_lb(lb, ["--listen", "127.0.0.1:0", "--config", conf2])
        procs.append(proc2)
        agree = 0
        for dcid, name in initials:
            hit, _, _ = exchange(b, lb2_addr, backends, initial(dcid, rng))
            agree += hit is not None and hit.name == name
        check(agree == len(initials), "a second roam-lb instance routed all %d Initials the same way" % len(initials))

        # 4. Unknown server ID (host 0c03 has no backend): fallback, not a drop.
        unknown = encode(lb, conf, 0, "0c0300", 1)[0]
        hit_s, rec_s, rep_s = exchange(a, lb_addr, backends, short_header(unknown, rng))
        check(hit_s is not None and rep_s is not None and rec_s[0] == a.addr,
              "a short header with an unknown server ID fell back to a backend (%s)" % (hit_s and hit_s.name))
        pkt = initial(unknown, rng)
        hit_l, _, rep_l = exchange(a, lb_addr, backends, pkt)
        check(hit_l is not None and rep_l == (b"echo:" + pkt, lb_addr),
              "a long header with an unknown server ID fell back to a backend (%s)" % (hit_l and hit_l.name))

        # 5. Replies that must not reach a client.
        rogue = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rogue.bind(("127.0.0.1", 0))
        rogue.sendto(build_encap(a.addr, lb_addr, b"forged"), ("127.0.0.1", source_port))
        b1.sock.sendto(b"\x02" + build_encap(a.addr, lb_addr, b"bad version")[1:], ("127.0.0.1", source_port))
        b1.sock.sendto(build_encap(a.addr, lb_addr, b"x")[:9], ("127.0.0.1", source_port))
        b1.sock.sendto(build_encap(a.addr, ("127.0.0.2", lb_addr[1]), b"wrong listen"), ("127.0.0.1", source_port))
        got = a.recv(0.5)
        check(got is None, "forged, malformed and misaddressed replies reached no client (got %r)" % (got,))
        b1.sock.sendto(build_encap(a.addr, lb_addr, b"genuine"), ("127.0.0.1", source_port))
        check(a.recv() == (b"genuine", lb_addr), "a genuine reply from a backend still gets through")

        # 6. SIGHUP: host 0a01 moves to backend b2.
        write_conf([("0a01", b2), ("0b02", b1)])
        proc.send_signal(signal.SIGHUP)
        r, _, _ = select.select([proc.stdout], [], [], 5)
        line = proc.stdout.readline() if r else ""
        check("reloaded" in line, "SIGHUP reloaded the settings (%r)" % line.strip())
        moved = 0
        for cid in cids[("b1", 0)]:
            hit, rec, reply = exchange(a, lb_addr, backends, short_header(cid, rng))
            moved += hit is b2 and reply is not None
        check(moved == 3, "after the reload, CIDs of host 0a01 reach its new backend and replies return")

        # 7. IPv6 clients, when the host has ::1.
        try:
            probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            probe.bind(("::1", 0))
            probe.close()
            have_v6 = True
        except OSError:
            have_v6 = False
        if have_v6:
            proc6, lb6_addr, _ = start_lb(lb, ["--listen", "[::1]:0", "--config", conf])
            procs.append(proc6)
            v6 = Client(socket.AF_INET6, "::1")
            cid = cids[("b2", 0)][0]  # host 0b02 is now backend b1
            pkt = short_header(cid, rng)
            hit, rec, reply = exchange(v6, lb6_addr, backends, pkt)
            good = hit is b1 and rec[0] == v6.addr and rec[1] == lb6_addr and reply == (b"echo:" + pkt, lb6_addr)
            check(good, "an IPv6 client through an IPv6 listener: header families 6/6, reply returned" +
                  ("" if good else " (got %s %s %s)" % (hit and hit.name, rec, reply)))
        else:
            print("skip IPv6: no ::1 on this host")

        # 8. Counters at exit.
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        stats = {}
        for line in out.splitlines():
            if line.startswith("roam-lb: stopped: "):
                for kv in line[len("roam-lb: stopped: "):].split():
                    k, v = kv.split("=")
                    stats[k] = int(v)
        check(proc.returncode == 0, "roam-lb exited 0 on SIGTERM")
        check(stats.get("server-id") == 23 and stats.get("unknown-server") == 2 and stats.get("no-config") == 24,
              "counters: server-id=23 unknown-server=2 no-config=24 (%s)" %
              {k: stats.get(k) for k in ("server-id", "unknown-server", "no-config")})
        check(stats.get("dropped-unknown-source") == 1 and stats.get("dropped-bad-encap") == 2 and
              stats.get("dropped-wrong-listen") == 1, "drop counters: unknown-source=1 bad-encap=2 wrong-listen=1 (%s)" %
              {k: stats.get(k) for k in ("dropped-unknown-source", "dropped-bad-encap", "dropped-wrong-listen")})
        check(stats.get("from-clients") == stats.get("to-backends") == stats.get("to-clients") - 1,
              "every client datagram was forwarded and every echo (plus the genuine reply) returned (%s)" %
              {k: stats.get(k) for k in ("from-clients", "to-backends", "to-clients")})
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for f in os.listdir(tmp):
            os.remove(os.path.join(tmp, f))
        os.rmdir(tmp)

    print("forward_test: %s" % ("all passed" if not failures else "%d FAILED" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
