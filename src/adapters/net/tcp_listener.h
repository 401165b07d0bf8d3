// TcpListener: one listening TCP socket of one worker (SO_REUSEPORT: every worker binds its own
// and the kernel spreads connections), its accept loop, and the worker's live connections for
// drain. One per worker per configured listener; lives on that worker's thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <list>
#include <string>

#include "adapters/net/connection_budget.h"
#include "adapters/net/stream.h"
#include "adapters/net/tls_contexts.h"
#include "core/config/config.h"
#include "core/result.h"
#include "proxy/worker_context.h"

namespace vx::adapters::net {

using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, ports::Executor>;

class TcpListener {
 public:
  TcpListener(ports::Executor executor, const core::config::Listener& config,
              const core::config::Limits& limits, proxy::WorkerContext& worker,
              ConnectionBudget& budget, const TlsContextsHolder* tls = nullptr);

  // Binds with SO_REUSEPORT and listens. Refuses with "listener NAME: cannot bind ADDR: why".
  core::Result<void, std::string> open();
  // Accepts until close(); each connection runs as its own coroutine.
  ports::Awaitable<void> accept_loop();
  // Stops accepting and asks every connection to drain.
  void close();
  size_t live_connections() const { return connections_.size(); }
  const core::config::Listener& config() const { return config_; }

 private:
  // The source address is banned (user-space refusal; XDP drops before this when enabled).
  bool banned(const Socket& socket);

  ports::Executor executor_;
  const core::config::Listener& config_;
  const core::config::Limits& limits_;
  proxy::WorkerContext& worker_;
  ConnectionBudget& budget_;
  // TLS listeners: the current certificates, re-read when the holder's generation changes
  // (reload), so each new handshake uses the newest snapshot.
  std::shared_ptr<const TlsServerContext> tls_context();
  const TlsContextsHolder* tls_holder_;
  uint64_t tls_generation_ = ~0ULL;
  std::shared_ptr<const TlsServerContext> tls_context_;
  Acceptor acceptor_;
  std::list<ConnectionSlot> connections_;
  bool closed_ = false;
};

}  // namespace vx::adapters::net
