#include "adapters/net/listener_factory.h"

#include "adapters/net/tcp_listener.h"
#include "adapters/quic/quic_listener.h"
#include "core/quic/server_connection_id.h"

namespace vx::adapters::net {

std::vector<std::unique_ptr<Listener>> make_listeners(const core::config::Listener& config,
                                                      const ListenerEnv& env) {
  std::vector<std::unique_ptr<Listener>> listeners;
  listeners.push_back(std::make_unique<TcpListener>(config, env));
  // Every worker serves its share of HTTP/3 (quic_listener.h says how packets find their
  // worker), up to as many as a connection ID's owner byte can name.
  if (config.http3 && env.worker.index < core::quic::kMaxOwners) {
    listeners.push_back(std::make_unique<quic::QuicListener>(config, env));
  }
  return listeners;
}

}  // namespace vx::adapters::net
