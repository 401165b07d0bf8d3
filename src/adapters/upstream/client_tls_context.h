// ClientTlsContext: one cluster's client side of TLS to its endpoints (OpenSSL): the trust
// store (tls.ca, else the system's), whether the peer is verified, and the ALPN protocol the
// cluster's protocol needs ("h2" or "http/1.1"). Built on the control thread at config load,
// immutable afterwards, shared by every worker (OpenSSL's SSL_CTX is thread-safe for
// handshakes).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/result.h"
#include "ports/upstream_pool.h"

namespace vx::adapters::upstream {

class ClientTlsContext final : public ports::UpstreamTlsContext {
 public:
  // ports::UpstreamTlsFactory. Refuses an unreadable or unparsable tls.ca; returns null when
  // the cluster has no tls block.
  static core::Result<std::shared_ptr<const ports::UpstreamTlsContext>, std::string> create(
      const core::config::Cluster& cluster);

  // The context connections are made from (SSL objects only read it).
  boost::asio::ssl::context& context() const { return context_; }
  bool verify() const { return verify_; }
  // "h2" or "http/1.1": a peer that selects another protocol (or none, for h2) is refused.
  std::string_view alpn() const { return alpn_; }

  // Per connection, before the handshake: SNI (unless the name is an IP address, RFC 6066 §3)
  // and, when verifying, the name the certificate must carry (RFC 6125). False on failure.
  bool prepare(SSL* ssl, std::string_view server_name) const;

  // ALPN check after the handshake.
  bool negotiated_ok(SSL* ssl) const;

  ClientTlsContext(boost::asio::ssl::context context, bool verify, std::string alpn)
      : context_(std::move(context)), verify_(verify), alpn_(std::move(alpn)) {}

 private:
  mutable boost::asio::ssl::context context_;
  bool verify_;
  std::string alpn_;
};

}  // namespace vx::adapters::upstream
