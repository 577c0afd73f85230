"""roam-server, roam-client and roam-lb runs for the load-balancing tests, and what their output says.

A client is named by its first address (--bind); its later addresses come from its own log lines
("rebound A -> B", "path A validated"). A connection's lines on a server are found by those
addresses: "connection from A", "path changed A -> B (reason)", "connection from B closed: ...",
optionally behind a "[worker K] " tag.
"""
import re
import subprocess
import time

import netlab

ADDR = r"\d+\.\d+\.\d+\.\d+:\d+"


class Client:
    def __init__(self, index, bind, args):
        self.index = index
        self.bind = bind          # "10.91.0.2:21000"
        self.args = args
        self.proc = None
        self.log = None
        self.started = None
        self.ended = None

    def output(self):
        return netlab.read(self.log)

    def ok(self):
        return self.proc is not None and self.proc.returncode == 0 and "all bytes verified" in self.output()

    def addresses(self):
        """Every address this client used, in order: --bind, then after each rebinding or migration."""
        out = [self.bind]
        for m in re.finditer(r"rebound (%s) -> (%s)|path (%s) validated" % (ADDR, ADDR, ADDR), self.output()):
            out.append(m.group(2) or m.group(3))
        return out


def start_clients(lab, ns, binary, clients, log_dir):
    for c in clients:
        c.log = "%s/client-%02d.log" % (log_dir, c.index)
        c.started = time.time()
        c.proc = lab.spawn(ns, [binary] + c.args, c.log, name="client-%d" % c.index)


def wait_clients(clients, timeout):
    deadline = time.time() + timeout
    for c in clients:
        try:
            c.proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            c.proc.kill()
            c.proc.wait()
        c.ended = time.time()


def end_times(clients, poll=0.05, timeout=120):
    """Waits for every client, noting when each one ended (for 'how soon after X did it fail')."""
    pending = list(clients)
    deadline = time.time() + timeout
    while pending and time.time() < deadline:
        for c in list(pending):
            if c.proc.poll() is not None:
                c.ended = time.time()
                pending.remove(c)
        time.sleep(poll)
    for c in pending:
        c.proc.kill()
        c.proc.wait()
        c.ended = time.time()


def connection_lines(server_log, addresses):
    """The lines of a server log that mention any of the addresses (exact, not as a prefix)."""
    rx = re.compile("(%s)(?![0-9])" % "|".join(re.escape(a) for a in addresses))
    return [line for line in server_log.splitlines() if rx.search(line)]


def worker_tag(line):
    m = re.match(r"\[worker (\d+)\] ", line)
    return int(m.group(1)) if m else None


def check_connection(checks, name, client, logs):
    """The client's connection lives on exactly one server (and one worker of it), and that
    server's log tells its whole story: accepted from the first address, one path change per
    later address, closed at the last. logs: {server name: log text}. Returns the server name."""
    addrs = client.addresses()
    where = {s: connection_lines(text, addrs) for s, text in logs.items()}
    holders = [s for s, lines in where.items() if lines]
    if not checks.check(len(holders) == 1, "%s: client %d (%s) seen on exactly one server (seen on %s)" %
                        (name, client.index, " -> ".join(addrs), holders or "none")):
        return None
    lines = where[holders[0]]
    tags = {worker_tag(l) for l in lines}
    text = "\n".join(re.sub(r"^\[worker \d+\] ", "", l) for l in lines)
    story = ["connection from %s" % addrs[0]]
    for a, b in zip(addrs, addrs[1:]):
        story.append("path changed %s -> %s (" % (a, b))
    story.append("connection from %s closed" % addrs[-1])
    missing = [s for s in story if s not in text]
    accepted = len(re.findall(r"^connection from %s$" % re.escape(addrs[0]), text, re.M))
    checks.check(not missing and len(tags) == 1 and accepted == 1,
                 "%s: client %d's connection on %s%s: accepted once (%d), %d path changes, closed (missing: %s)" %
                 (name, client.index, holders[0], "" if None in tags else " worker %s" % sorted(tags), accepted,
                  len(addrs) - 1, missing or "nothing"))
    return holders[0]


def worker_summaries(server_log):
    """{worker: (accepted, stateless resets sent)} from roam-server's exit lines."""
    out = {}
    for m in re.finditer(r"worker (\d+): (\d+) connections accepted, \d+ datagrams in, \d+ dropped, "
                         r"(\d+) stateless resets sent", server_log):
        out[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    return out


def lb_stats(lb_log):
    """roam-lb's counters at exit as a dict."""
    m = None
    for m in re.finditer(r"roam-lb: stopped: (.*)", lb_log):
        pass
    if not m:
        return {}
    return {k: int(v) for k, v in re.findall(r"([a-z-]+)=(\d+)", m.group(1))}
