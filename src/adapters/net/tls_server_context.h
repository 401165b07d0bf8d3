// TlsServerContext: the OpenSSL server side of one TLS listener: one SSL_CTX per configured
// certificate (the first is the default), SNI choosing among them (exact names, then
// "*.domain" wildcards, then "*"), ALPN from the listener's list, TLS 1.2-1.3 and session
// tickets from the process's TicketKeyRing. Immutable once built; shared by all workers
// through shared_ptr (OpenSSL's SSL_CTX is thread-safe for handshakes).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/config/diagnostic.h"
#include "core/http/server_names.h"
#include "core/result.h"

namespace vx::adapters::net {

class TlsServerContext {
 public:
  // Loads every certificate and key of `tls`. Refuses with one diagnostic per file that cannot
  // be read, certificate that does not parse, or key that does not match its certificate,
  // each at the certificate's line in `config_file`.
  static core::Result<std::shared_ptr<const TlsServerContext>,
                      std::vector<core::config::Diagnostic>>
  create(const core::config::ListenerTls& tls, const std::string& config_file);

  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // The context new connections start with (the default certificate's).
  boost::asio::ssl::context& default_context() const { return *contexts_.front(); }
  // The context whose certificate serves `server_name` (SNI), or null for the default.
  SSL_CTX* context_for(std::string_view server_name) const;

 private:
  TlsServerContext() = default;

  static int on_server_name(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                     const unsigned char* in, unsigned int in_len, void* arg);

  std::vector<std::unique_ptr<boost::asio::ssl::context>> contexts_;  // by certificate
  core::http::ServerNames server_names_;
  std::string alpn_wire_;  // the listener's protocols in ALPN wire format, preference order
};

}  // namespace vx::adapters::net
