// make_listeners: the Listeners one configured listener needs on one worker, one per transport
// it serves. Pure construction; call on the worker's thread.
#pragma once

#include <memory>
#include <vector>

#include "adapters/net/listener.h"
#include "core/config/config.h"

namespace vx::adapters::net {

// One TcpListener (HTTP/1.1 and h2c, or TLS with HTTP/2 by ALPN); `http3: true` adds a
// QuicListener at the same address on every worker. None is opened yet. `config` must outlive them.
std::vector<std::unique_ptr<Listener>> make_listeners(const core::config::Listener& config,
                                                      const ListenerEnv& env);

}  // namespace vx::adapters::net
