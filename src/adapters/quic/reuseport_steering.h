// Reuseport steering: the classic BPF program the kernel runs, for every datagram reaching a
// QUIC listener's address, to pick which worker's socket of the SO_REUSEPORT group gets it
// (docs/http3.md "How packets reach their worker"). Classic BPF on a reuseport group needs no
// privilege (SO_ATTACH_REUSEPORT_CBPF); for UDP the program sees the UDP payload.
//
//  - short header (first bit 0): the owner byte of the destination connection ID
//    (core/quic/server_connection_id.h) at 1 + kOwnerOffset;
//  - long header: when the destination ID (length at byte 5, ID from byte 6) has our length,
//    its owner byte: Handshake packets after the client took our ID, the Initial after a Retry;
//  - anything else (a client-chosen ID in an Initial or 0-RTT packet, a byte that names no
//    worker, a runt): an index past the group, on which the kernel falls back to its own
//    4-tuple hash, which keeps every packet of a handshake on one socket.
//
// The index returned is the socket's position in the group: the order the sockets joined it.
// QuicListener binds them in worker order (quic_listener.h says how), so index = worker.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

namespace vx::adapters::quic {

// The program for a group of `workers` sockets. REQUIRES: 1 <= workers <= core::quic::kMaxOwners.
std::vector<sock_filter> reuseport_steering_program(unsigned workers);

// Attaches the program to the reuseport group `fd` belongs to (bound). "" when attached, else
// why the kernel refused.
std::string attach_reuseport_steering(int fd, unsigned workers);

}  // namespace vx::adapters::quic
