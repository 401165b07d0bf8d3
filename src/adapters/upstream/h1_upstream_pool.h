// H1UpstreamPool / TlsH1UpstreamPool: per-worker keep-alive pools of HTTP/1.1 connections over
// plain TCP or TLS, one LIFO idle list per endpoint (the most recently used connection is the
// warmest and least likely to have been closed by the upstream's own idle timer). Not
// thread-safe: one per worker.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <unordered_map>
#include <vector>

#include "adapters/upstream/h1_upstream_connection.h"
#include "ports/upstream_pool.h"

namespace vx::adapters::upstream {

template <typename Stream>
class BasicH1UpstreamPool final : public ports::UpstreamPool {
 public:
  explicit BasicH1UpstreamPool(ports::Executor executor);
  ~BasicH1UpstreamPool() override;

  // ports::UpstreamPool
  ports::AsyncResult<ports::UpstreamLease> acquire(const ports::UpstreamTarget& target,
                                                   bool fresh_only) override;
  ports::UpstreamLease take_idle(const ports::UpstreamTarget& target) override;

  // Closes idle connections past their idle timeout; the worker calls it about once a second.
  void sweep_idle();
  // Closes every idle connection and stops pooling (drain).
  void close_all();
  size_t idle_count() const;

 private:
  struct IdleList {
    std::vector<std::unique_ptr<BasicH1UpstreamConnection<Stream>>> connections;  // back = newest
    uint32_t max_idle = 0;
    std::chrono::milliseconds idle_timeout{0};
  };
  static void release(ports::UpstreamStream* stream, bool reusable);
  // TCP, then for TLS the handshake (SNI, verification, ALPN), all within connect_timeout.
  ports::AsyncResult<Stream> connect(const ports::UpstreamTarget& target);

  ports::Executor executor_;
  std::unordered_map<uint64_t, IdleList> idle_;
  bool closed_ = false;
};

using H1UpstreamPool = BasicH1UpstreamPool<Socket>;
using TlsH1UpstreamPool = BasicH1UpstreamPool<TlsSocket>;

}  // namespace vx::adapters::upstream
