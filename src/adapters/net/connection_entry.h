// serve_connection: everything one accepted socket goes through, on its worker's thread:
// the TLS handshake (bounded by header_timeout) and ALPN on TLS listeners, then HTTP/1.1 or
// HTTP/2 (h2 by ALPN; h2c by prior knowledge or Upgrade on plain listeners).
#pragma once

#include <memory>

#include "adapters/net/idle_connections.h"
#include "adapters/net/stream.h"
#include "adapters/net/tls_server_context.h"
#include "core/config/config.h"
#include "proxy/worker_context.h"

namespace vx::adapters::net {

struct ConnectionEnv {
  proxy::WorkerContext& worker;
  const core::config::Limits& limits;
  std::string_view listener;  // the configured listener's name
  // The Alt-Svc field value TLS responses carry (SPEC.md §4: `h3=":PORT"` when the listener
  // serves HTTP/3); empty: none.
  std::string_view alt_svc = {};
  // Where an HTTP/1.1 connection idle between requests may park (the listener's); null: never.
  IdleConnections* idle = nullptr;
};

// Serves the connection until it ends or parks (slot.parked set); `tls` null = plain TCP.
// Never throws on peer input. A parked connection is served again by parked->resume().
ports::Awaitable<void> serve_connection(Socket socket, ConnectionSlot& slot, ConnectionEnv env,
                                        std::shared_ptr<const TlsServerContext> tls);

}  // namespace vx::adapters::net
