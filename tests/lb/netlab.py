"""Network namespaces, veth pairs and processes for the load-balancing tests (root only).

Every namespace and interface name carries this process's PID, so parallel runs do not collide;
namespaces left behind by a run that was killed (its PID gone) are deleted at the next start.
Processes are tracked by PID and stopped before their namespaces are deleted.
"""
import os
import re
import signal
import subprocess
import sys
import time


def can_run():
    """(True, "") when namespaces can be made here, else (False, why)."""
    if os.geteuid() != 0:
        return False, "needs root (network namespaces)"
    if subprocess.run(["ip", "-V"], capture_output=True).returncode != 0:
        return False, "needs iproute2"
    return True, ""


def _sh(*cmd, check=True):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


class Lab:
    PREFIX = "rlb"

    def __init__(self):
        self.tag = "%s%d" % (self.PREFIX, os.getpid())
        self.namespaces = []
        self.procs = []  # (Popen, name)
        self._remove_stale()
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, _frame):
        self.close()
        sys.exit(128 + signum)

    def _remove_stale(self):
        out = _sh("ip", "netns", "list", check=False).stdout
        for line in out.splitlines():
            m = re.match(r"(%s(\d+)\S*)" % self.PREFIX, line)
            if not m:
                continue
            pid = int(m.group(2))
            if pid != os.getpid() and not os.path.exists("/proc/%d" % pid):
                _sh("ip", "netns", "del", m.group(1), check=False)

    def ns(self, name):
        """Creates namespace <tag><name> with lo up, no IPv6 and no reverse-path filter."""
        full = self.tag + name
        _sh("ip", "netns", "add", full)
        self.namespaces.append(full)
        self.run(full, "ip", "link", "set", "lo", "up")
        for key in ("net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
                    "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"):
            self.run(full, "sysctl", "-qw", key, check=False)
        return full

    def run(self, ns, *cmd, check=True):
        return _sh("ip", "netns", "exec", ns, *cmd, check=check)

    def ifname(self, name):
        """An interface name unique to this run (at most 15 characters)."""
        return (self.tag[len(self.PREFIX):] + name)[-15:]

    def veth(self, ns_a, name_a, addr_a, ns_b, name_b, addr_b):
        """A veth pair between two namespaces, addresses in CIDR form, both ends up."""
        a, b = self.ifname(name_a), self.ifname(name_b)
        _sh("ip", "link", "add", a, "netns", ns_a, "type", "veth", "peer", "name", b, "netns", ns_b)
        for ns, dev, addr in ((ns_a, a, addr_a), (ns_b, b, addr_b)):
            self.run(ns, "sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % dev, check=False)
            self.run(ns, "ip", "addr", "add", addr, "dev", dev)
            self.run(ns, "ip", "link", "set", dev, "up")
        return a, b

    def spawn(self, ns, cmd, log_path, name=None):
        """Starts cmd inside ns (ip netns exec execs in place: the PID is the program's)."""
        log = open(log_path, "w")
        full = ["ip", "netns", "exec", ns] + list(cmd) if ns else list(cmd)
        p = subprocess.Popen(full, stdout=log, stderr=subprocess.STDOUT, text=True)
        log.close()
        self.procs.append((p, name or cmd[0]))
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=5.0):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def close(self):
        for p, _ in self.procs:
            self.stop(p, wait=2.0)
        self.procs = []
        for ns in reversed(self.namespaces):
            _sh("ip", "netns", "del", ns, check=False)
        self.namespaces = []


def wait_for_line(path, pattern, timeout=10.0, proc=None):
    """The first match of pattern in the file at path, waiting up to timeout; None if it never came."""
    rx = re.compile(pattern)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                m = rx.search(f.read())
            if m:
                return m
        except FileNotFoundError:
            pass
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    return None


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Checks:
    def __init__(self):
        self.failures = []

    def check(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures.append(what)
        return cond
