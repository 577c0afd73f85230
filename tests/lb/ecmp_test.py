#!/usr/bin/env python3
"""Two roam-lb instances behind a per-packet sprayer (as behind ECMP), over network namespaces (root):

    clients (ns c) --tun--> splitter --tun--> roam-lb A (ns la) --veth--> backends (ns s)
                                     --tun--> roam-lb B (ns lb) --veth-->

Both balancers own the VIP 10.90.0.100:443 and read the same settings file; the splitter
(tun_splitter.py) sends the clients' packets to A and B in strict alternation, so every
connection's datagrams, its Initials included, are split between the two. The backends take
encapsulated datagrams from both (--behind-lb A,B) and answer each client through the balancer
its last datagram came through. 12 clients download with --perf (every byte verified) and move
twice mid-transfer (NAT rebinding, then migration to a second address); every transfer must
complete, each connection on exactly one backend, and both balancers must have carried traffic
both ways.
Usage: ecmp_test.py DIR_WITH_ROAM_BINARIES
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402
import quic_lab  # noqa: E402

VIP = "10.90.0.100"
BACKENDS = [("0a01", "10.93.0.1"), ("0b02", "10.93.0.2"), ("0c03", "10.93.0.3")]
LB_SOURCES = ["10.92.1.1:7000", "10.92.2.1:7000"]
KEY = "8f95f09245765f80256934e50c66207f"
RESET_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
CLIENTS = 12
PERF_BYTES = 3_000_000
RATE = "40mbit"  # per balancer, downstream


def main():
    bindir = sys.argv[1]
    ok, why = netlab.can_run()
    if not ok:
        print("skip: " + why)
        return 77
    if not os.path.exists("/dev/net/tun"):
        print("skip: no /dev/net/tun")
        return 77
    checks = netlab.Checks()
    lab = netlab.Lab()
    tmp = tempfile.mkdtemp(prefix="roam-lb-ecmp-")
    b = lambda name: os.path.join(bindir, name)  # noqa: E731
    try:
        c, la, lb, s = lab.ns("c"), lab.ns("la"), lab.ns("lb"), lab.ns("s")
        # The splitter's three TUN devices, each moved into its namespace.
        tun = {k: lab.ifname(k) for k in ("tc", "ta", "tb")}
        split_log = os.path.join(tmp, "splitter.log")
        splitter = lab.spawn(None, [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                 "tun_splitter.py"), tun["tc"], tun["ta"], tun["tb"]],
                             split_log, name="splitter")
        if not netlab.wait_for_line(split_log, "ready", proc=splitter):
            raise RuntimeError("splitter did not start: " + netlab.read(split_log))
        for key, ns in (("tc", c), ("ta", la), ("tb", lb)):
            subprocess.run(["ip", "link", "set", tun[key], "netns", ns], check=True)
            lab.run(ns, "ip", "link", "set", tun[key], "up")
            lab.run(ns, "sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % tun[key], check=False)
        for ip in ("10.94.0.2", "10.94.0.3"):
            lab.run(c, "ip", "addr", "add", ip + "/32", "dev", "lo")
        lab.run(c, "ip", "route", "add", VIP + "/32", "dev", tun["tc"], "src", "10.94.0.2")
        for ns, key, i in ((la, "ta", 1), (lb, "tb", 2)):
            lab.run(ns, "ip", "addr", "add", VIP + "/32", "dev", "lo")
            lab.run(ns, "ip", "route", "add", "10.94.0.0/24", "dev", tun[key])
            lab.run(ns, "tc", "qdisc", "add", "dev", tun[key], "root", "tbf", "rate", RATE, "burst", "32kb",
                    "latency", "100ms")
            lab.veth(ns, "l%d" % i, "10.92.%d.1/24" % i, s, "s%d" % i, "10.92.%d.2/24" % i)
            lab.run(ns, "ip", "route", "add", "10.93.0.0/24", "via", "10.92.%d.2" % i)
        for _, ip in BACKENDS:
            lab.run(s, "ip", "addr", "add", ip + "/32", "dev", "lo")

        conf = os.path.join(tmp, "lb.conf")
        with open(conf, "w") as f:
            f.write("config id=0 server-id-len=3 nonce-len=5 key=%s\n" % KEY)
            f.write("".join("backend %s=%s:4433\n" % (sid, ip) for sid, ip in BACKENDS))
            f.write("fallback-key 0f0e0d0c0b0a09080706050403020100\n")
        reset_key = os.path.join(tmp, "reset.key")
        with open(reset_key, "w") as f:
            f.write(RESET_KEY)
        servers = {}
        for sid, ip in BACKENDS:
            log = os.path.join(tmp, "server-%s.log" % sid)
            p = lab.spawn(s, [b("roam-server"), "--listen", ip + ":4433", "--alpn", "perf", "--lb-config", conf,
                              "--server-id", sid, "--behind-lb", ",".join(LB_SOURCES), "--reset-key-file",
                              reset_key], log, name="server-" + sid)
            servers[sid] = (p, log)
        lbs = []
        for ns, source, name in ((la, LB_SOURCES[0], "A"), (lb, LB_SOURCES[1], "B")):
            log = os.path.join(tmp, "lb-%s.log" % name)
            p = lab.spawn(ns, [b("roam-lb"), "--listen", VIP + ":443", "--config", conf, "--backend-source", source],
                          log, name="roam-lb-" + name)
            lbs.append((p, log, name))
        started = all(netlab.wait_for_line(log, "listening on", proc=p) for p, log in servers.values())
        started = started and all(netlab.wait_for_line(log, "roam-lb: listening", proc=p) for p, log, _ in lbs)
        if not checks.check(bool(started), "servers and both balancers started"):
            return 1

        clients = []
        for i in range(CLIENTS):
            bind = "10.94.0.2:%d" % (22000 + i)
            clients.append(quic_lab.Client(i, bind, [
                VIP + ":443", "--insecure", "--perf", str(PERF_BYTES), "--bind", bind, "--timeout", "20",
                "--max-time", "90", "--rebind-after", "0.7s", "--migrate-after", "1.4s",
                "--migrate-to", "10.94.0.3:%d" % (32000 + i)]))
        os.makedirs(os.path.join(tmp, "clients"))
        quic_lab.start_clients(lab, c, b("roam-client"), clients, os.path.join(tmp, "clients"))
        quic_lab.wait_clients(clients, 150)
        for p, _ in servers.values():
            lab.stop(p)
        for p, _, _ in lbs:
            lab.stop(p)
        lab.stop(splitter)
        logs = {sid: netlab.read(log) for sid, (_, log) in servers.items()}

        done = [cl for cl in clients if cl.ok()]
        checks.check(len(done) == CLIENTS, "%d/%d transfers through two alternating balancers completed, every "
                     "byte verified" % (len(done), CLIENTS))
        for cl in clients:
            if not cl.ok():
                print("    client %d: exit %s: %s" % (cl.index, cl.proc.returncode, cl.output().strip()[-400:]))
        per_backend = {}
        for cl in clients:
            checks.check(len(cl.addresses()) == 3, "client %d moved twice (%s)" % (cl.index, " -> ".join(cl.addresses())))
            where = quic_lab.check_connection(checks, "ecmp", cl, logs)
            per_backend[where] = per_backend.get(where, 0) + 1
        print("connections per backend: %s" % dict(sorted((k or "?", v) for k, v in per_backend.items())))
        m = re.search(r"splitter: (.*)", netlab.read(split_log))
        counts = {k: int(v) for k, v in re.findall(r"([a-z-]+)=(\d+)", m.group(1))} if m else {}
        print("splitter: %s" % counts)
        checks.check(bool(counts) and abs(counts["to-a"] - counts["to-b"]) <= 1 and counts["to-a"] > 1000,
                     "the splitter alternated every client datagram between the balancers")
        for p, log, name in lbs:
            st = quic_lab.lb_stats(netlab.read(log))
            print("roam-lb %s: %s" % (name, {k: st.get(k) for k in ("from-clients", "server-id", "no-config",
                                                                      "unknown-server", "to-backends",
                                                                      "from-backends", "to-clients")}))
            checks.check(st.get("from-clients", 0) > 1000 and st.get("to-clients", 0) > 1000,
                         "roam-lb %s carried traffic both ways" % name)
            checks.check(st.get("unknown-server", 1) == 0 and st.get("dropped-unknown-source", 1) == 0 and
                         st.get("dropped-wrong-listen", 1) == 0, "roam-lb %s dropped nothing it should not" % name)
        resets = sum(int(r) for log in logs.values() for r in re.findall(r"(\d+) stateless resets sent", log))
        checks.check(resets == 0, "no backend sent a stateless reset (%d)" % resets)
    finally:
        lab.close()
    if checks.failures:
        print("%d check(s) failed; logs in %s" % (len(checks.failures), tmp))
        return 1
    subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
