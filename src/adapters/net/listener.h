// Listener: the role of one worker's share of one configured listener, whatever its transport:
// a socket the worker binds itself (SO_REUSEPORT: the kernel spreads connections between the
// workers), the loop that takes connections from it, and those connections until they end.
// TcpListener, and QuicListener (adapters/quic) for `http3: true`. Made by make_listeners(); lives
// on its worker's thread, which makes every call.
#pragma once

#include <cstddef>
#include <string>

#include "adapters/net/connection_budget.h"
#include "adapters/net/tls_contexts.h"
#include "core/config/config.h"
#include "core/result.h"
#include "ports/awaitable_result.h"
#include "proxy/worker_context.h"

namespace vx::adapters::net {

// What every listener of one worker is built with. Everything referred to outlives the
// listener.
struct ListenerEnv {
  ports::Executor executor;                // the worker's: the loop and every connection run here
  const core::config::Limits& limits;      // the worker's current limits, read by new connections
  proxy::WorkerContext& worker;            // the pipeline the connections feed, bans at accept
  ConnectionBudget& budget;                // limits.max_connections, shared by the process
  const TlsContextsHolder* tls = nullptr;  // certificates by listener name; null: none
};

class Listener {
 public:
  virtual ~Listener() = default;

  // Binds the socket; takes no connection yet (a reload binds every new listener before it
  // commits to any). Refuses with "listener NAME: bad address ADDR" or "listener NAME: cannot
  // bind ADDR: why". Call once.
  virtual core::Result<void, std::string> open() = 0;
  // REQUIRES: open() succeeded. Takes connections until close(), each served as its own
  // coroutine (counted against the ConnectionBudget; a banned source is refused before any
  // byte is read); returns once closed. The worker spawns it once, guarded.
  virtual ports::Awaitable<void> serve() = 0;
  // Stops taking connections and asks every live one to drain: finish what it has, then close.
  // serve() and the connections still refer to this object until they end, so it must live
  // until live_connections() is 0.
  virtual void close() = 0;
  // Connections taken and not ended yet.
  virtual size_t live_connections() const = 0;
  // The configured listener served. Its name labels vortex_downstream_connections_active and
  // matches listeners across a reload; several Listeners (one per transport) may share it.
  virtual const core::config::Listener& config() const = 0;
};

}  // namespace vx::adapters::net
