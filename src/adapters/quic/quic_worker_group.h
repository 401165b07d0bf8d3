// QuicWorkerGroup: what the QuicListeners of one configured HTTP/3 listener share across the
// workers (one group per listener and opening: every worker's QuicListener made from the same
// config::Listener object joins it). Holds each worker's inbox: the unix datagram socketpair
// through which the other workers hand it the datagrams of its connections that reached them
// (docs/http3.md "How packets reach their worker"); and the handshakes in progress, which decide
// Retry for the whole listener.
//
// Thread safety: join(), take_inbox() and bound_in_order() lock a registry (open time only,
// never on the packet path). The socketpairs are made with the group and fixed afterwards; their
// writing ends stay open until the last listener leaves, so a worker never writes to a closed or
// reused fd. Forwarding is a send() with MSG_DONTWAIT: the kernel queues and bounds it
// (SO_SNDBUF) and wakes the owner's reactor; no lock in userspace.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/config/config.h"

namespace vx::adapters::quic {

class QuicWorkerGroup {
 public:
  // The group of `config`'s QuicListeners, made by the first worker that joins. `workers`: how
  // many workers the process runs.
  static std::shared_ptr<QuicWorkerGroup> join(const core::config::Listener& config,
                                               unsigned workers);
  // Keys Retry tokens and stateless reset tokens: made once per process, so a token one worker
  // (or a listener a reload replaced) issued is good on every other.
  static const std::array<uint8_t, 32>& secret();

  explicit QuicWorkerGroup(unsigned workers);
  ~QuicWorkerGroup();
  QuicWorkerGroup(const QuicWorkerGroup&) = delete;
  QuicWorkerGroup& operator=(const QuicWorkerGroup&) = delete;

  unsigned workers() const { return workers_; }
  // Where to send a datagram for `worker`'s listener (the writing end; any thread).
  int forward_fd(unsigned worker) const { return ends_[worker].write; }
  // The reading end for `worker`'s listener, which owns it from then on. Once per worker.
  int take_inbox(unsigned worker);
  // A worker bound its UDP socket; true when every worker has, each in worker order (the
  // socket's index in the reuseport group is then its worker index).
  bool bound_in_order(unsigned worker);

  std::atomic<size_t> handshakes{0};  // accepted connections whose handshake has not completed

 private:
  struct Ends {
    int read = -1;
    int write = -1;
  };
  unsigned workers_;
  std::vector<Ends> ends_;
  unsigned bound_ = 0;
  bool in_order_ = true;
};

}  // namespace vx::adapters::quic
