#!/usr/bin/env python3
"""roam-server --workers 4 over loopback: one port, four threads with their own endpoints and
SO_REUSEPORT sockets, a BPF program steering each datagram to the worker its CID names.

Many clients download with --perf (every byte verified) and migrate mid-transfer from 127.0.0.1 to
127.0.0.2 (half of them after a NAT rebinding first), so every connection's 4-tuple changes once
or twice. Every transfer must complete; each connection's lines (accepted, path changes, closed)
must carry one worker's tag; the workers' exit lines must count one accepted connection per
client in all (none re-created) and no stateless reset (nothing reached a worker that did not know
its CID). Two rounds: random worker CIDs (no --lb-config), then QUIC-LB CIDs of a plaintext config
whose last server ID octet names the worker.
Usage: workers_test.py DIR_WITH_ROAM_BINARIES
"""
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402
import quic_lab  # noqa: E402

WORKERS = 4


class NoNamespaceLab(netlab.Lab):
    """Processes only: this test needs no namespaces (and no root)."""

    def __init__(self):
        self.namespaces = []
        self.procs = []
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)


def round_(lab, bindir, tmp, name, extra, clients_n, perf_bytes, checks):
    log = os.path.join(tmp, "%s-server.log" % name)
    server = lab.spawn(None, [os.path.join(bindir, "roam-server"), "--listen", "127.0.0.1:0", "--alpn", "perf",
                              "--workers", str(WORKERS)] + extra, log, name="server")
    m = netlab.wait_for_line(log, r"listening on 127\.0\.0\.1:(\d+)", proc=server)
    if not checks.check(m is not None, "%s: roam-server --workers %d started" % (name, WORKERS)):
        print(netlab.read(log))
        return
    port = int(m.group(1))
    base = 20000 + (os.getpid() % 400) * 100
    clients = []
    for i in range(clients_n):
        bind = "127.0.0.1:%d" % (base + i)
        args = ["127.0.0.1:%d" % port, "--insecure", "--perf", str(perf_bytes), "--bind", bind, "--timeout", "20",
                "--max-time", "120", "--migrate-after", "0.4s", "--migrate-to", "127.0.0.2:%d" % (base + 50 + i)]
        if i % 2 == 0:
            args += ["--rebind-after", "0.2s"]
        clients.append(quic_lab.Client(i, bind, args))
    os.makedirs(os.path.join(tmp, name))
    quic_lab.start_clients(lab, None, os.path.join(bindir, "roam-client"), clients, os.path.join(tmp, name))
    quic_lab.wait_clients(clients, 200)
    lab.stop(server)
    text = netlab.read(log)

    done = [c for c in clients if c.ok()]
    checks.check(len(done) == clients_n, "%s: %d/%d migrating transfers completed, every byte verified" %
                 (name, len(done), clients_n))
    for c in clients:
        if not c.ok():
            print("    client %d: exit %s: %s" % (c.index, c.proc.returncode, c.output().strip()[-400:]))
    per_worker = {}
    for c in clients:
        want = 3 if c.index % 2 == 0 else 2
        checks.check(len(c.addresses()) == want, "%s: client %d moved %d times (%s)" %
                     (name, c.index, want - 1, " -> ".join(c.addresses())))
        quic_lab.check_connection(checks, name, c, {"server": text})
        tags = {quic_lab.worker_tag(l) for l in quic_lab.connection_lines(text, c.addresses())}
        for t in tags:
            per_worker[t] = per_worker.get(t, 0) + 1
    summaries = quic_lab.worker_summaries(text)
    accepted = {w: a for w, (a, _) in summaries.items()}
    resets = sum(r for _, r in summaries.values())
    print("%s: connections per worker (from the tags): %s; accepted per worker (exit lines): %s" %
          (name, dict(sorted(per_worker.items(), key=lambda kv: str(kv[0]))), accepted))
    checks.check(len(summaries) == WORKERS, "%s: every worker printed its counters" % name)
    checks.check(sum(accepted.values()) == clients_n, "%s: %d connections accepted in all, one per client (none "
                 "re-created after a migration)" % (name, sum(accepted.values())))
    checks.check(resets == 0, "%s: no worker sent a stateless reset (%d)" % (name, resets))
    checks.check(sum(1 for a in accepted.values() if a > 0) >= 2, "%s: connections spread over workers" % name)


def main():
    bindir = sys.argv[1]
    checks = netlab.Checks()
    lab = NoNamespaceLab()
    tmp = tempfile.mkdtemp(prefix="roam-lb-workers-")
    try:
        round_(lab, bindir, tmp, "random-cids", [], 24, 60_000_000, checks)
        conf = os.path.join(tmp, "lb.conf")
        with open(conf, "w") as f:
            # Plaintext: host ID 0a01, worker in the third server ID octet, readable at CID offset 3.
            f.write("config id=2 server-id-len=3 nonce-len=6\nbackend 0a01=127.0.0.1:4433\n")
        round_(lab, bindir, tmp, "quic-lb-cids", ["--lb-config", conf, "--server-id", "0a01"], 12, 100_000_000, checks)
    finally:
        lab.close()
    if checks.failures:
        print("%d check(s) failed; logs in %s" % (len(checks.failures), tmp))
        return 1
    subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
