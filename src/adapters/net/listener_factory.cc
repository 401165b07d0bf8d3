#include "adapters/net/listener_factory.h"

#include "adapters/net/tcp_listener.h"

namespace vx::adapters::net {

std::vector<std::unique_ptr<Listener>> make_listeners(const core::config::Listener& config,
                                                      const ListenerEnv& env) {
  std::vector<std::unique_ptr<Listener>> listeners;
  listeners.push_back(std::make_unique<TcpListener>(config, env));
  return listeners;
}

}  // namespace vx::adapters::net
