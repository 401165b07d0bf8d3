// TcpListener: the Listener for TCP: one listening socket of one worker (SO_REUSEPORT), its
// accept loop, and its live connections (plain HTTP/1.1 and h2c, or TLS with HTTP/2 by ALPN).
// One per worker per configured listener; lives on that worker's thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <list>
#include <memory>
#include <string>

#include "adapters/net/connection_budget.h"
#include "adapters/net/connection_entry.h"
#include "adapters/net/idle_connections.h"
#include "adapters/net/listener.h"
#include "adapters/net/reused_block_allocator.h"
#include "adapters/net/stream.h"
#include "adapters/net/tls_contexts.h"
#include "core/config/config.h"
#include "core/result.h"
#include "proxy/worker_context.h"

namespace vx::adapters::net {

using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, ports::Executor>;

class TcpListener final : public Listener {
 public:
  TcpListener(const core::config::Listener& config, const ListenerEnv& env);

  // Listener. open() binds with SO_REUSEPORT and listens. serve() pauses accepting while the
  // budget is spent (new connections wait in the kernel backlog) and refuses banned sources
  // at accept; on a TLS listener, each handshake uses the newest certificates published.
  core::Result<void, std::string> open() override;
  ports::Awaitable<void> serve() override;
  void close() override;
  size_t live_connections() const override { return connections_.size(); }
  const core::config::Listener& config() const override { return config_; }

 private:
  using Slot = std::list<ConnectionSlot>::iterator;

  ports::Awaitable<void> accept_loop();
  // The idle connections' sweep (IdleConnections), until close().
  ports::Awaitable<void> sweep_idle();
  // The source address is banned (user-space refusal; XDP drops before this when enabled).
  bool banned(const Socket& socket);
  ConnectionEnv env();
  void spawn(ports::Awaitable<void> task, Slot slot);
  // A serving coroutine ended: the connection is over, or parked (slot->parked).
  void ended(Slot slot);
  // Holds a parked connection: a readability wait with a plain handler, no coroutine.
  void hold(std::unique_ptr<ParkedConnection> parked, Slot slot);

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
  std::string alt_svc_;  // h3=":PORT" when the listener also serves HTTP/3
  Acceptor acceptor_;
  ReusedBlock accept_op_;  // the memory of every accept operation, one at a time
  std::list<ConnectionSlot> connections_;
  IdleConnections idle_;
  Timer sweep_timer_;
  bool closed_ = false;
};

}  // namespace vx::adapters::net
