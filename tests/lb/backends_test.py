#!/usr/bin/env python3
"""roam-lb in front of three roam-server backends, over network namespaces (root):

    clients (ns c) --veth, 120 Mbit/s down--> roam-lb (ns l, VIP 10.90.0.100:443)
                   --veth--> backends (ns s: 10.93.0.1-3:4433; the third runs two workers)

The backends issue QUIC-LB CIDs (an encrypted four-pass config from the LB's own settings file),
take encapsulated datagrams from the LB (--behind-lb) and share a stateless reset key.

1. Migration: 30 clients each download with --perf (every byte verified) and move twice
   mid-transfer: a NAT rebinding (new port) after 0.5 s and a migration to a second address
   after 1 s. Routable mode: all 30 complete, and each connection's lines (accepted, two path changes,
   closed) are on exactly one backend. The same with `roam-lb --mode 4tuple`: the migrated
   connections land on other backends, which answer with stateless resets; the test prints how
   many survive and asserts that some did not.
2. A backend killed mid-transfer (SIGKILL, then removed from the LB's settings and SIGHUP): its
   connections end, by a stateless reset from a surviving backend (the LB's fallback sends their
   short headers there and the backends share the reset key) or, for a client with nothing in
   flight or still in its handshake (long headers get no reset), by the idle timeout; every other
   client completes untouched.
Usage: backends_test.py DIR_WITH_ROAM_BINARIES
"""
import os
import re
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402
import quic_lab  # noqa: E402

VIP = "10.90.0.100"
LB_PORT = 443
LB_SOURCE = "10.92.1.1:7000"
BACKENDS = [("0a01", "10.93.0.1"), ("0b02", "10.93.0.2"), ("0c03", "10.93.0.3")]
WORKERS = {"0c03": 2}
KEY = "8f95f09245765f80256934e50c66207f"
FALLBACK_KEY = "000102030405060708090a0b0c0d0e0f"
RESET_KEY = "5c0a7e0f1d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5"
CLIENTS = 30
PERF_BYTES = 6_000_000
RATE = "120mbit"


def settings(backends):
    lines = ["config id=0 server-id-len=3 nonce-len=5 key=%s" % KEY]
    lines += ["backend %s=%s:4433" % (sid, ip) for sid, ip in backends]
    lines.append("fallback-key %s" % FALLBACK_KEY)
    return "\n".join(lines) + "\n"


class Testbed:
    def __init__(self, lab, bindir, tmp):
        self.lab, self.bindir, self.tmp = lab, bindir, tmp
        self.c = lab.ns("c")
        self.l = lab.ns("l")
        self.s = lab.ns("s")
        _, self.lb_down = lab.veth(self.c, "c0", "10.91.0.2/24", self.l, "l0", "10.91.0.1/24")
        c0 = lab.ifname("c0")
        lab.run(self.c, "ip", "addr", "add", "10.91.0.3/24", "dev", c0)
        lab.run(self.c, "ip", "route", "add", VIP + "/32", "via", "10.91.0.1")
        lab.run(self.l, "ip", "addr", "add", VIP + "/32", "dev", "lo")
        lab.veth(self.l, "l1", "10.92.1.1/24", self.s, "s1", "10.92.1.2/24")
        lab.run(self.l, "ip", "route", "add", "10.93.0.0/24", "via", "10.92.1.2")
        for _, ip in BACKENDS:
            lab.run(self.s, "ip", "addr", "add", ip + "/32", "dev", "lo")
        # Downstream shaping, so every transfer lasts long enough to migrate twice in the middle.
        lab.run(self.l, "tc", "qdisc", "add", "dev", self.lb_down, "root", "tbf", "rate", RATE, "burst", "64kb",
                "latency", "100ms")
        self.conf = os.path.join(tmp, "lb.conf")
        with open(self.conf, "w") as f:
            f.write(settings(BACKENDS))
        self.reset_key = os.path.join(tmp, "reset.key")
        with open(self.reset_key, "w") as f:
            f.write(RESET_KEY + "\n")
        self.servers = {}
        self.lb = None

    def bin(self, name):
        return os.path.join(self.bindir, name)

    def start(self, run, mode="routable"):
        self.servers = {}
        for sid, ip in BACKENDS:
            log = os.path.join(self.tmp, "%s-server-%s.log" % (run, sid))
            args = [self.bin("roam-server"), "--listen", ip + ":4433", "--alpn", "perf", "--lb-config", self.conf,
                    "--server-id", sid, "--behind-lb", LB_SOURCE, "--reset-key-file", self.reset_key]
            if sid in WORKERS:
                args += ["--workers", str(WORKERS[sid])]
            if os.environ.get("ROAM_TEST_QLOG_DIR"):
                args += ["--qlog-dir", os.environ["ROAM_TEST_QLOG_DIR"]]
            p = self.lab.spawn(self.s, args, log, name="server-" + sid)
            self.servers[sid] = (p, log)
        lb_log = os.path.join(self.tmp, "%s-lb.log" % run)
        lb_args = [self.bin("roam-lb"), "--listen", "%s:%d" % (VIP, LB_PORT), "--config", self.conf,
                   "--backend-source", LB_SOURCE, "--mode", mode]
        self.lb = (self.lab.spawn(self.l, lb_args, lb_log, name="roam-lb"), lb_log)
        ok = all(netlab.wait_for_line(log, "listening on", proc=p) for p, log in self.servers.values())
        ok = ok and netlab.wait_for_line(lb_log, "roam-lb: listening", proc=self.lb[0])
        if not ok:
            raise RuntimeError("servers or roam-lb did not start:\n" + "\n".join(
                netlab.read(log) for _, log in list(self.servers.values()) + [self.lb]))

    def stop(self):
        for p, _ in self.servers.values():
            self.lab.stop(p)
        self.lab.stop(self.lb[0])
        return {sid: netlab.read(log) for sid, (_, log) in self.servers.items()}, netlab.read(self.lb[1])

    def clients(self, run, count, perf_bytes, migrate):
        out = []
        for i in range(count):
            bind = "10.91.0.2:%d" % (21000 + i)
            args = ["%s:%d" % (VIP, LB_PORT), "--insecure", "--perf", str(perf_bytes), "--bind", bind,
                    "--timeout", "20", "--max-time", "90"] + (["--qlog-dir", os.environ["ROAM_TEST_QLOG_DIR"]] if os.environ.get("ROAM_TEST_QLOG_DIR") else [])
            if migrate:
                args += ["--rebind-after", "0.5s", "--migrate-after", "1s", "--migrate-to", "10.91.0.3:%d" % (31000 + i)]
            out.append(quic_lab.Client(i, bind, args))
        log_dir = os.path.join(self.tmp, run)
        os.makedirs(log_dir, exist_ok=True)
        quic_lab.start_clients(self.lab, self.c, self.bin("roam-client"), out, log_dir)
        return out


def migration(bed, checks):
    bed.start("routable")
    clients = bed.clients("routable", CLIENTS, PERF_BYTES, migrate=True)
    quic_lab.wait_clients(clients, 120)
    logs, lb_log = bed.stop()
    done = [c for c in clients if c.ok()]
    checks.check(len(done) == CLIENTS, "routable: %d/%d migrating transfers completed, every byte verified" %
                 (len(done), CLIENTS))
    for c in clients:
        if not c.ok():
            print("    client %d: exit %s: %s" % (c.index, c.proc.returncode, c.output().strip()[-400:]))
    per_backend = {}
    for c in clients:
        checks.check(len(c.addresses()) == 3, "routable: client %d moved twice (%s)" %
                     (c.index, " -> ".join(c.addresses())))
        where = quic_lab.check_connection(checks, "routable", c, logs)
        per_backend[where] = per_backend.get(where, 0) + 1
    print("routable: connections per backend: %s" % dict(sorted((k or "?", v) for k, v in per_backend.items())))
    stats = quic_lab.lb_stats(lb_log)
    print("routable: roam-lb: %s" % {k: stats.get(k) for k in ("from-clients", "server-id", "no-config", "undecodable",
                                                                "unknown-server", "to-clients")})
    checks.check(stats.get("server-id", 0) > 0 and stats.get("unknown-server", 1) == 0,
                 "routable: roam-lb routed by server ID, no unknown server IDs")
    resets = sum(r for log in logs.values() for r in re.findall(r"(\d+) stateless resets sent", log) for r in [int(r)])
    checks.check(resets == 0, "routable: no backend sent a stateless reset (%d)" % resets)
    for sid in WORKERS:
        counts = quic_lab.worker_summaries(logs[sid])
        print("routable: backend %s workers: %s" % (sid, {w: a for w, (a, _) in counts.items()}))

    bed.start("4tuple", mode="4tuple")
    clients = bed.clients("4tuple", CLIENTS, PERF_BYTES, migrate=True)
    quic_lab.wait_clients(clients, 120)
    logs, lb_log = bed.stop()
    done = [c for c in clients if c.ok()]
    reset = [c for c in clients if "stateless reset" in c.output()]
    print("4tuple: %d/%d migrating transfers completed; %d ended by a stateless reset, %d otherwise" %
          (len(done), CLIENTS, len(reset), CLIENTS - len(done) - len(reset)))
    stats = quic_lab.lb_stats(lb_log)
    checks.check(stats.get("four-tuple", 0) > 0, "4tuple: roam-lb routed by 4-tuple (%s)" % stats.get("four-tuple"))
    checks.check(len(done) < CLIENTS, "4tuple: migration breaks connections behind a 4-tuple balancer (%d/%d lost)" %
                 (CLIENTS - len(done), CLIENTS))
    return len(done)


def killed_backend(bed, checks):
    bed.start("kill")
    clients = bed.clients("kill", 20, 10_000_000, migrate=False)
    time.sleep(2.5)
    # The victim: the backend with the most connections so far.
    owner = {}
    for sid, (_, log) in bed.servers.items():
        for m in re.finditer(r"connection from (%s)$" % quic_lab.ADDR, netlab.read(log), re.M):
            owner[m.group(1)] = sid
    counts = {sid: list(owner.values()).count(sid) for sid, _ in BACKENDS}
    victim = max(counts, key=counts.get)
    print("kill: connections per backend after 2.5 s: %s; killing %s" % (counts, victim))
    # A transfer that already finished (a fast machine) is no victim: only those still running.
    running = {c.bind for c in clients if c.proc.poll() is None}
    bed.lab.stop(bed.servers[victim][0], sig=signal.SIGKILL)
    time.sleep(1.0)
    with open(bed.conf, "w") as f:
        f.write(settings([b for b in BACKENDS if b[0] != victim]))
    bed.lb[0].send_signal(signal.SIGHUP)
    reloaded = time.time()
    quic_lab.end_times(clients, timeout=150)
    netlab.wait_for_line(bed.lb[1], "reloaded", timeout=1)
    logs, _ = bed.stop()
    victims = [c for c in clients if owner.get(c.bind) == victim and c.bind in running]
    finished_before = [c for c in clients if owner.get(c.bind) == victim and c.bind not in running]
    others = [c for c in clients if owner.get(c.bind) not in (None, victim)]
    checks.check(len(victims) + len(finished_before) + len(others) == len(clients),
                 "kill: every client's connection was accepted before the kill (%d)" %
                 (len(victims) + len(finished_before) + len(others)))
    ended = [c for c in victims if c.proc.returncode != 0]
    reset = [c for c in ended if "stateless reset" in c.output()]
    timed_out = [c for c in ended if "timed out" in c.output()]
    late = max((c.ended - reloaded for c in reset), default=0)
    checks.check(bool(victims) and len(ended) == len(victims) and len(reset) + len(timed_out) == len(ended),
                 "kill: all %d connections of the killed backend ended: %d by a stateless reset from a survivor "
                 "(the last %.1f s after the reload), %d by the idle timeout" %
                 (len(victims), len(reset), late, len(timed_out)))
    checks.check(len(reset) > 0, "kill: the survivors reset the killed backend's connections they were sent (%d)" %
                 len(reset))
    for c in victims:
        if c not in reset and c not in timed_out:
            print("    client %d: exit %s: %s" % (c.index, c.proc.returncode, c.output().strip()[-300:]))
    intact = [c for c in others if c.ok()] + [c for c in finished_before if c.ok()]
    others = others + finished_before
    checks.check(len(intact) == len(others), "kill: the other %d transfers completed, every byte verified (%d did)" %
                 (len(others), len(intact)))
    resets = {sid: sum(int(r) for r in re.findall(r"(\d+) stateless resets sent", logs[sid])) for sid, _ in BACKENDS
              if sid != victim}
    print("kill: stateless resets sent by the survivors: %s" % resets)


def main():
    bindir = sys.argv[1]
    ok, why = netlab.can_run()
    if not ok:
        print("skip: " + why)
        return 77
    checks = netlab.Checks()
    lab = netlab.Lab()
    tmp = tempfile.mkdtemp(prefix="roam-lb-backends-")
    try:
        bed = Testbed(lab, bindir, tmp)
        migration(bed, checks)
        killed_backend(bed, checks)
    finally:
        lab.close()
    if checks.failures:
        print("%d check(s) failed; logs in %s" % (len(checks.failures), tmp))
        return 1
    subprocess_cleanup(tmp)
    return 0


def subprocess_cleanup(tmp):
    for root, dirs, files in os.walk(tmp, topdown=False):
        for f in files:
            os.remove(os.path.join(root, f))
        for d in dirs:
            os.rmdir(os.path.join(root, d))
    os.rmdir(tmp)


if __name__ == "__main__":
    sys.exit(main())
