// One active health check on a fresh connection (SPEC.md clusters[].health_check), in the
// cluster's own protocol: TCP connect, TLS when the cluster has a tls block (its
// ClientTlsContext: trust store, SNI, certificate name, ALPN), then HTTP/1.1 or HTTP/2 (h2c, h2).
// Runs on the health checker's thread; one connection per probe, closed when it returns.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <span>
#include <string_view>

#include "ports/awaitable_result.h"

namespace vx::adapters::upstream {

class ClientTlsContext;

struct ProbeResult {
  bool ok = false;
  std::string_view why;  // a literal; empty when ok
  uint16_t status = 0;   // the response status when one arrived, else 0
};

// Everything a probe reads from the Runtime; the caller keeps that Runtime alive until the
// probe returns.
struct ProbeTarget {
  std::span<const boost::asio::ip::tcp::endpoint> addresses;  // tried in order
  std::string_view path;                                      // health_check.path
  std::string_view authority;                                 // the endpoint's "host:port"
  // TLS: the cluster's context, shared with the workers. Only SSL objects are made from it,
  // which OpenSSL allows from any thread (SSL_new takes its own reference to the SSL_CTX).
  // Null: plain TCP.
  const ClientTlsContext* tls = nullptr;
  std::string_view server_name;  // SNI and certificate name when tls is set
  bool h2 = false;               // protocol h2c or h2: HTTP/2 with prior knowledge or ALPN h2
};

// Connects, handshakes, sends one GET of the path, and judges the response head: ok for a 2xx
// status, else not ok with the reason (connect or TLS failure, non-2xx status, invalid or no
// response). Never throws for what the peer does. Unbounded in time: the caller races it
// against health_check.timeout_ms and abandons it (closing the connection) when that fires.
ports::Awaitable<ProbeResult> run_health_probe(ports::Executor executor, ProbeTarget target);

}  // namespace vx::adapters::upstream
