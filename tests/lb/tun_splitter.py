#!/usr/bin/env python3
"""A per-packet splitter between TUN devices, standing in for an ECMP router that sprays packets.

    tun_splitter.py FRONT BACK_A BACK_B

Creates three TUN devices (IFF_TUN, no packet info) named FRONT, BACK_A and BACK_B, prints
"ready" and then forwards raw IPv4 packets: those read from FRONT go to BACK_A and BACK_B in
strict alternation, those read from either back device go to FRONT. The caller moves the devices
into their namespaces (a TUN device keeps its file descriptor when it changes namespace) and
routes through them. On SIGTERM it prints "splitter: to-a=N to-b=N from-a=N from-b=N dropped=N"
and exits. Packets that are not IPv4 (router solicitations and the like) are dropped.
"""
import fcntl
import os
import select
import signal
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    front, back_a, back_b = (open_tun(n) for n in sys.argv[1:4])
    counts = {"to-a": 0, "to-b": 0, "from-a": 0, "from-b": 0, "dropped": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print("ready", flush=True)
    poller = select.poll()
    for fd in (front, back_a, back_b):
        poller.register(fd, select.POLLIN)
    turn = 0
    backs = (back_a, back_b)
    while not stop:
        try:
            ready = poller.poll(200)
        except InterruptedError:
            continue
        for fd, _ in ready:
            for _ in range(64):  # bounded, so one direction cannot starve the other
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if not pkt or pkt[0] >> 4 != 4:
                    counts["dropped"] += 1
                    continue
                try:
                    if fd == front:
                        os.write(backs[turn], pkt)
                        counts["to-a" if turn == 0 else "to-b"] += 1
                        turn ^= 1
                    else:
                        os.write(front, pkt)
                        counts["from-a" if fd == back_a else "from-b"] += 1
                except OSError:
                    counts["dropped"] += 1  # a device not up yet, or its queue full: the network lost it
    print("splitter: " + " ".join("%s=%d" % kv for kv in counts.items()), flush=True)


if __name__ == "__main__":
    main()
