// Steering datagrams to workers inside the kernel: a classic BPF program attached to a
// SO_REUSEPORT group of UDP sockets (SO_ATTACH_REUSEPORT_CBPF) picks, for each datagram, the
// socket of the worker that owns its connection. Each worker issues CIDs that carry its index in
// one plaintext octet at a fixed offset (SteeringLayout::worker_offset), so the program only reads
// one octet: no table, no decryption.
//
// What the program does with the UDP payload (offset 0 is the first payload octet):
//   - optionally skip roam-lb's encapsulation header (version octet 1, see lb/encap.h): its size
//     follows from the address families in octet 1 (14, 26 or 38 octets);
//   - short header (first bit 0): return the octet at 1 + worker_offset (the DCID starts at 1).
//     A value >= workers (not one of our CIDs) makes the kernel fall back to its 4-tuple hash;
//   - long header (first bit 1): if the DCID length (octet 5) is our CID length, the octet at
//     6 + worker_offset, else the first DCID octet (a client's first Initial: the DCID is its own
//     random choice); either modulo workers. Every long header thus goes to a worker chosen by its
//     DCID alone, so a client's retransmitted Initial reaches the same worker even from another
//     port, and handshakes arriving through one load balancer (one 4-tuple) still spread out.
//   - a datagram too short for a load returns 0 (the kernel's rule for cBPF): worker 0.
// The return value is an index into the group in bind order, so workers must bind in index order.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "io/sys_result.h"

namespace roam::io {

struct SteeringLayout {
  std::uint32_t workers = 1;       // sockets in the group, 1..256
  std::size_t cid_length = 8;      // length of the CIDs the workers issue (1..20)
  std::size_t worker_offset = 7;   // offset of the worker octet inside those CIDs (< cid_length)
  bool encapsulated = false;       // datagrams may carry roam-lb's encapsulation header first
};

// The program for a layout; empty when the layout is out of range (workers 0 or above 256,
// cid_length 0 or above 20, worker_offset not inside the CID).
std::vector<sock_filter> build_steering_program(const SteeringLayout& layout);

// Attaches the program to the reuseport group of socket fd (any member; it applies to the whole
// group, present and future members).
SysStatus attach_steering_program(int fd, const std::vector<sock_filter>& program);

}  // namespace roam::io
