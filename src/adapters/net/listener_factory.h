// make_listeners: the Listeners one configured listener needs on one worker, one per transport
// it serves. Pure construction; call on the worker's thread.
#pragma once

#include <memory>
#include <vector>

#include "adapters/net/listener.h"
#include "core/config/config.h"

namespace vx::adapters::net {

// Today one TcpListener (HTTP/1.1 and h2c, or TLS with HTTP/2 by ALPN). `http3: true` will add
// a UDP listener at the same address. None is opened yet. `config` must outlive them.
std::vector<std::unique_ptr<Listener>> make_listeners(const core::config::Listener& config,
                                                      const ListenerEnv& env);

}  // namespace vx::adapters::net
