// QuicCredentials: the GnuTLS side of one HTTP/3 listener: a GnuTLS credentials set per
// certificate, the client's SNI choosing among them by the certificates' server_names as on
// TCP (core::http::ServerNames; the first is the default), and a TLS 1.3-only server session
// per QUIC connection with ALPN "h3" mandatory.
// ngtcp2's crypto backend for GnuTLS drives the handshake. No session tickets are issued, so
// there is no 0-RTT (it would need replay protection first). Immutable once built.
#pragma once

#include <gnutls/gnutls.h>

#include <memory>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/http/server_names.h"
#include "core/result.h"

namespace vx::adapters::quic {

class QuicCredentials {
 public:
  // Loads every certificate of `tls`; refuses with "listener NAME: http3: why".
  static core::Result<std::unique_ptr<QuicCredentials>, std::string> load(
      const core::config::Listener& listener);
  ~QuicCredentials();
  QuicCredentials(const QuicCredentials&) = delete;
  QuicCredentials& operator=(const QuicCredentials&) = delete;

  // A server session configured for QUIC (ngtcp2_crypto_gnutls), or null on failure.
  gnutls_session_t new_session() const;

 private:
  QuicCredentials() = default;
  // After the ClientHello: the certificate its SNI names becomes the session's.
  static int on_client_hello(gnutls_session_t session);

  std::vector<gnutls_certificate_credentials_t> credentials_;  // by certificate
  core::http::ServerNames server_names_;
};

}  // namespace vx::adapters::quic
