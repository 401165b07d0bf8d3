// UpstreamPools: the worker's one ports::UpstreamPool, handing each acquire to the pool of the
// cluster's protocol: HTTP/1.1 over TCP, HTTP/1.1 over TLS, or HTTP/2 (h2c and h2). The
// pipeline stays protocol-blind. Not thread-safe: one per worker.
#pragma once

#include "adapters/upstream/h1_upstream_pool.h"
#include "adapters/upstream/h2_upstream_pool.h"
#include "ports/upstream_pool.h"

namespace vx::adapters::upstream {

class UpstreamPools final : public ports::UpstreamPool {
 public:
  explicit UpstreamPools(ports::Executor executor)
      : h1_(executor), h1_tls_(executor), h2_(executor) {}

  // ports::UpstreamPool
  ports::AsyncResult<ports::UpstreamLease> acquire(const ports::UpstreamTarget& target,
                                                   bool fresh_only) override {
    if (target.protocol != core::config::UpstreamProtocol::Http1) {
      return h2_.acquire(target, fresh_only);
    }
    if (target.tls) return h1_tls_.acquire(target, fresh_only);
    return h1_.acquire(target, fresh_only);
  }
  ports::UpstreamLease take_idle(const ports::UpstreamTarget& target) override {
    if (target.protocol != core::config::UpstreamProtocol::Http1) return h2_.take_idle(target);
    if (target.tls) return h1_tls_.take_idle(target);
    return h1_.take_idle(target);
  }

  // Housekeeping from the worker: idle HTTP/1.1 connections; HTTP/2 sessions time out alone.
  void sweep_idle() {
    h1_.sweep_idle();
    h1_tls_.sweep_idle();
  }
  void close_all() {
    h1_.close_all();
    h1_tls_.close_all();
    h2_.close_all();
  }

 private:
  H1UpstreamPool h1_;
  TlsH1UpstreamPool h1_tls_;
  H2UpstreamPool h2_;
};

}  // namespace vx::adapters::upstream
