#!/usr/bin/env python3
"""Handover stall from a roam-client qlog (roam issue 4 benchmark).

Reads one client qlog (JSON-SEQ, QUIC event schema) of a transfer with one migration and prints
  stall_ms    last STREAM data received on the old path -> first STREAM data on the new path
              (0 when the new path delivered before the old one stopped)
  first_ms    first packet of any kind received on the new path -> first STREAM data on it
  rtt_ms      the smoothed RTT reported after the switch (the new path's)
  stall_rtts  stall_ms / rtt_ms
The path of each packet is the event's "tuple" (the handshake path is the default tuple "").
Usage: handover_stall.py QLOG_FILE
"""
import json
import sys


def events(path):
    with open(path, "rb") as f:
        for rec in f.read().split(b"\x1e"):
            rec = rec.strip()
            if rec:
                try:
                    yield json.loads(rec)
                except ValueError:
                    continue


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    switch_t = None
    new_tuple = None
    old_last = None
    new_first_any = None
    new_first_data = None
    rtt = None
    evs = list(events(sys.argv[1]))
    for e in evs:
        if e.get("name") == "quic:migration_state_updated" and e["data"].get("new") == "migration_started":
            switch_t = e["time"]
            new_tuple = e["data"].get("tuple_id")
            break
    if switch_t is None:
        print("no migration in this qlog", file=sys.stderr)
        return 1
    for e in evs:
        name = e.get("name")
        if name == "quic:recovery_metrics_updated" and e["time"] > switch_t and rtt is None:
            rtt = e["data"].get("smoothed_rtt")
        if name != "quic:packet_received":
            continue
        tup = e.get("tuple", "")
        has_data = any(f.get("frame_type") == "stream" for f in e["data"].get("frames", []))
        if tup == new_tuple:
            if new_first_any is None:
                new_first_any = e["time"]
            if has_data and new_first_data is None:
                new_first_data = e["time"]
        elif has_data and (new_first_data is None or e["time"] < new_first_data):
            old_last = e["time"]
    if new_first_data is None or old_last is None or not rtt:
        print("incomplete: no data on the new path, none on the old one, or no RTT", file=sys.stderr)
        return 1
    stall = max(0.0, new_first_data - old_last)
    print(f"stall_ms={stall:.3f} first_ms={new_first_data - new_first_any:.3f} rtt_ms={rtt:.3f} "
          f"stall_rtts={stall / rtt:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
