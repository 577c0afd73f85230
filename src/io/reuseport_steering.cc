#include "io/reuseport_steering.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

namespace roam::io {

namespace {

constexpr std::uint32_t kMaxWorkers = 256;
constexpr std::size_t kMaxCidLength = 20;
// Past the end of any group: the kernel then picks a socket by its 4-tuple hash.
constexpr std::uint32_t kKernelHash = 0xffffffff;

// Encapsulation header (lb/encap.h): version 1, then the client and listen address families as
// two nibbles (4 or 6), ports, then the addresses. Header size per family octet.
constexpr std::uint8_t kEncapVersion = 1;
struct EncapShape {
  std::uint8_t families;
  std::uint32_t size;
};
constexpr std::array<EncapShape, 4> kEncapShapes{{{0x44, 14}, {0x46, 26}, {0x64, 26}, {0x66, 38}}};

// Classic BPF only jumps forward by an 8-bit count; a tiny assembler with labels keeps the
// program readable and the offsets right.
class Assembler {
 public:
  using Label = int;
  Label label() { return next_label_++; }
  void bind(Label l) { bound_.push_back({l, code_.size()}); }
  void op(std::uint16_t code, std::uint32_t k) { code_.push_back({code, 0, 0, k}); }
  // if (A <code> k) goto yes else goto no
  void jump(std::uint16_t code, std::uint32_t k, Label yes, Label no) {
    fixups_.push_back({code_.size(), yes, no, false});
    code_.push_back({static_cast<std::uint16_t>(BPF_JMP | code | BPF_K), 0, 0, k});
  }
  void go(Label to) {
    fixups_.push_back({code_.size(), to, to, true});
    code_.push_back({BPF_JMP | BPF_JA, 0, 0, 0});
  }
  // Resolves the labels; empty if a jump went backwards or too far (a bug in this file).
  std::vector<sock_filter> finish() {
    for (const auto& f : fixups_) {
      const auto yes = target(f.yes);
      const auto no = target(f.no);
      if (yes <= f.at || no <= f.at) return {};
      const std::size_t dyes = yes - f.at - 1;
      const std::size_t dno = no - f.at - 1;
      if (f.always) {
        code_[f.at].k = static_cast<std::uint32_t>(dyes);
      } else {
        if (dyes > 255 || dno > 255) return {};
        code_[f.at].jt = static_cast<std::uint8_t>(dyes);
        code_[f.at].jf = static_cast<std::uint8_t>(dno);
      }
    }
    return code_;
  }

 private:
  struct Fixup {
    std::size_t at;
    Label yes;
    Label no;
    bool always;
  };
  std::size_t target(Label l) const {
    for (const auto& b : bound_) {
      if (b.first == l) return b.second;
    }
    return 0;
  }
  std::vector<sock_filter> code_;
  std::vector<std::pair<Label, std::size_t>> bound_;
  std::vector<Fixup> fixups_;
  Label next_label_ = 0;
};

}  // namespace

std::vector<sock_filter> build_steering_program(const SteeringLayout& layout) {
  if (layout.workers == 0 || layout.workers > kMaxWorkers) return {};
  if (layout.cid_length == 0 || layout.cid_length > kMaxCidLength || layout.worker_offset >= layout.cid_length) {
    return {};
  }
  const auto off = static_cast<std::uint32_t>(layout.worker_offset);
  Assembler a;
  const auto quic = a.label();
  const auto no_header = a.label();
  const auto hash = a.label();
  const auto is_long = a.label();
  const auto other_dcid = a.label();
  const auto modulo = a.label();

  if (layout.encapsulated) {
    std::array<Assembler::Label, kEncapShapes.size()> sized{};
    for (auto& l : sized) l = a.label();
    a.op(BPF_LD | BPF_B | BPF_ABS, 0);  // A = version octet
    const auto header = a.label();
    a.jump(BPF_JEQ, kEncapVersion, header, no_header);
    a.bind(header);
    a.op(BPF_LD | BPF_B | BPF_ABS, 1);  // A = families
    for (std::size_t i = 0; i < kEncapShapes.size(); ++i) {
      const auto next = a.label();
      a.jump(BPF_JEQ, kEncapShapes[i].families, sized[i], i + 1 < kEncapShapes.size() ? next : hash);
      a.bind(next);
    }
    for (std::size_t i = 0; i < kEncapShapes.size(); ++i) {
      a.bind(sized[i]);
      a.op(BPF_LDX | BPF_IMM, kEncapShapes[i].size);  // X = where the QUIC packet starts
      a.go(quic);
    }
  }
  a.bind(no_header);
  a.op(BPF_LDX | BPF_IMM, 0);
  a.bind(quic);
  a.op(BPF_LD | BPF_B | BPF_IND, 0);  // A = first octet
  const auto is_short = a.label();
  a.jump(BPF_JSET, 0x80, is_long, is_short);
  a.bind(is_short);
  a.op(BPF_LD | BPF_B | BPF_IND, 1 + off);  // A = worker octet of the DCID
  a.op(BPF_RET | BPF_A, 0);
  a.bind(is_long);
  a.op(BPF_LD | BPF_B | BPF_IND, 5);  // A = DCID length
  const auto ours = a.label();
  a.jump(BPF_JEQ, static_cast<std::uint32_t>(layout.cid_length), ours, other_dcid);
  a.bind(ours);
  a.op(BPF_LD | BPF_B | BPF_IND, 6 + off);
  a.go(modulo);
  a.bind(other_dcid);
  a.op(BPF_LD | BPF_B | BPF_IND, 6);  // first octet of a DCID the client chose
  a.bind(modulo);
  a.op(BPF_ALU | BPF_MOD | BPF_K, layout.workers);
  a.op(BPF_RET | BPF_A, 0);
  a.bind(hash);
  a.op(BPF_RET | BPF_K, kKernelHash);
  return a.finish();
}

SysStatus attach_steering_program(int fd, const std::vector<sock_filter>& program) {
  if (program.empty() || program.size() > BPF_MAXINSNS) return SysError{"SO_ATTACH_REUSEPORT_CBPF", EINVAL};
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = const_cast<sock_filter*>(program.data());  // the kernel copies it
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0) {
    return last_error("setsockopt(SO_ATTACH_REUSEPORT_CBPF)");
  }
  return {};
}

}  // namespace roam::io
