// H2UpstreamPool: per-worker HTTP/2 connections to endpoints (h2c and h2 over TLS). Streams
// share one multiplexed connection per endpoint; a second one opens only when the first is at
// the peer's SETTINGS_MAX_CONCURRENT_STREAMS, draining (GOAWAY) or dead. Not thread-safe: one
// per worker.
//
// Invariants:
//  1. Acquirers arriving while a connection is being made wait for it instead of opening their
//     own: a burst opens one connection, not one per request.
//  2. A session leaves the pool (and is destroyed) only once its run() ended and no stream is
//     attached (H2UpstreamSession invariant 4).
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "adapters/upstream/h2_upstream_session.h"
#include "adapters/upstream/h2_upstream_stream.h"
#include "ports/upstream_pool.h"

namespace vx::adapters::upstream {

class H2UpstreamPool final : public ports::UpstreamPool {
 public:
  explicit H2UpstreamPool(ports::Executor executor);
  ~H2UpstreamPool() override;

  // ports::UpstreamPool. fresh_only changes nothing here: a stream that failed because its
  // connection went away is never retried on that connection (it is draining or dead).
  // HTTP/2 streams always go through acquire (a session may still be connecting).
  ports::UpstreamLease take_idle(const ports::UpstreamTarget&) override { return {}; }
  ports::AsyncResult<ports::UpstreamLease> acquire(const ports::UpstreamTarget& target,
                                                   bool fresh_only) override;

  // Drain: every connection finishes its streams and closes; no new ones open.
  void close_all();
  size_t connection_count() const;

  // From a session: its run() ended or its last stream detached.
  void on_session_idle(H2UpstreamSession& session);

 private:
  static void release(ports::UpstreamStream* stream, bool reusable);
  H2UpstreamSession& open_session(const ports::UpstreamTarget& target);

  ports::Executor executor_;
  std::unordered_map<uint64_t, std::vector<std::unique_ptr<H2UpstreamSession>>> sessions_;
  std::vector<std::unique_ptr<H2UpstreamStream>> free_streams_;
  bool closed_ = false;
};

}  // namespace vx::adapters::upstream
