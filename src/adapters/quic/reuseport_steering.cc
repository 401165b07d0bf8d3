#include "adapters/quic/reuseport_steering.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "core/quic/server_connection_id.h"

namespace vx::adapters::quic {

namespace {

using core::quic::kOwnerOffset;
using core::quic::kServerCidBytes;

// Past any group: the kernel then picks by its 4-tuple hash.
constexpr uint32_t kKernelHash = 0xFFFFFFFF;

sock_filter statement(uint16_t code, uint32_t k) {
  return BPF_STMT(code, k);
}
sock_filter jump(uint16_t code, uint32_t k, uint8_t if_true, uint8_t if_false) {
  return BPF_JUMP(code, k, if_true, if_false);
}

}  // namespace

std::vector<sock_filter> reuseport_steering_program(unsigned workers) {
  // Jump offsets count the instructions skipped after the jump; the labels on the right are
  // where each lands.
  constexpr uint32_t short_owner = 1 + kOwnerOffset;
  constexpr uint32_t long_owner = 6 + kOwnerOffset;
  return {
      /* 0 */ statement(BPF_LD | BPF_B | BPF_ABS, 0),
      /* 1 */ jump(BPF_JMP | BPF_JSET | BPF_K, 0x80, 4, 0),  // long header: 6
                                                             // Short header.
      /* 2 */ statement(BPF_LD | BPF_W | BPF_LEN, 0),
      /* 3 */ jump(BPF_JMP | BPF_JGE | BPF_K, short_owner + 1, 0, 9),  // runt: 13
      /* 4 */ statement(BPF_LD | BPF_B | BPF_ABS, short_owner),
      /* 5 */ jump(BPF_JMP | BPF_JGE | BPF_K, workers, 7, 6),  // no worker: 13, else 12
                                                               // Long header.
      /* 6 */ statement(BPF_LD | BPF_W | BPF_LEN, 0),
      /* 7 */ jump(BPF_JMP | BPF_JGE | BPF_K, 6 + kServerCidBytes, 0, 5),  // runt: 13
      /* 8 */ statement(BPF_LD | BPF_B | BPF_ABS, 5),
      /* 9 */ jump(BPF_JMP | BPF_JEQ | BPF_K, kServerCidBytes, 0, 3),  // not our length: 13
      /* 10 */ statement(BPF_LD | BPF_B | BPF_ABS, long_owner),
      /* 11 */ jump(BPF_JMP | BPF_JGE | BPF_K, workers, 1, 0),  // no worker: 13, else 12
      /* 12 */ statement(BPF_RET | BPF_A, 0),
      /* 13 */ statement(BPF_RET | BPF_K, kKernelHash),
  };
}

std::string attach_reuseport_steering(int fd, unsigned workers) {
  auto program = reuseport_steering_program(workers);
  const sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog, sizeof fprog) != 0) {
    return std::strerror(errno);
  }
  return {};
}

}  // namespace vx::adapters::quic
