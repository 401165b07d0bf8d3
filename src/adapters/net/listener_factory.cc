#include "adapters/net/listener_factory.h"

#include "adapters/net/tcp_listener.h"
#include "adapters/quic/quic_listener.h"

namespace vx::adapters::net {

std::vector<std::unique_ptr<Listener>> make_listeners(const core::config::Listener& config,
                                                      const ListenerEnv& env) {
  std::vector<std::unique_ptr<Listener>> listeners;
  listeners.push_back(std::make_unique<TcpListener>(config, env));
  // One worker serves a listener's HTTP/3 (quic_listener.h says why).
  if (config.http3 && env.worker.index == 0) {
    listeners.push_back(std::make_unique<quic::QuicListener>(config, env));
  }
  return listeners;
}

}  // namespace vx::adapters::net
