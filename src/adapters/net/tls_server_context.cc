#include "adapters/net/tls_server_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "adapters/net/ticket_key_ring.h"
#include "core/http/header.h"

namespace vx::adapters::net {

namespace ssl = boost::asio::ssl;
using core::config::Diagnostic;

namespace {

// The reason of the newest OpenSSL error, and the queue emptied.
std::string openssl_reason() {
  unsigned long code = 0, last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (last == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(last);
  return reason ? reason : "unknown error";
}

bool file_readable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::fclose(f);
  return true;
}

}  // namespace

TlsServerContext::~TlsServerContext() = default;

core::Result<std::shared_ptr<const TlsServerContext>, std::vector<Diagnostic>>
TlsServerContext::create(const core::config::ListenerTls& tls, const std::string& config_file) {
  std::shared_ptr<TlsServerContext> self(new TlsServerContext());
  std::vector<Diagnostic> errors;
  for (const std::string& p : tls.alpn) {
    self->alpn_wire_.push_back(static_cast<char>(p.size()));
    self->alpn_wire_.append(p);
  }
  for (const auto& cert : tls.certificates) {
    const int cert_line = cert.where.of("cert");
    const int key_line = cert.where.of("key");
    auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
    SSL_CTX* ctx = context->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // TLS 1.2: forward-secret AEAD suites only (RFC 9113 §9.2.2 forbids the rest for h2).
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    static const unsigned char kSessionContext[] = "vortex";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
    TicketKeyRing::install(ctx);
    SSL_CTX_set_tlsext_servername_callback(ctx, &TlsServerContext::on_server_name);
    SSL_CTX_set_tlsext_servername_arg(ctx, self.get());
    SSL_CTX_set_alpn_select_cb(ctx, &TlsServerContext::on_alpn, self.get());

    bool ok = true;
    if (!file_readable(cert.cert)) {
      errors.push_back(
          {config_file, cert_line, "cannot read certificate file '" + cert.cert + "'"});
      ok = false;
    } else if (SSL_CTX_use_certificate_chain_file(ctx, cert.cert.c_str()) != 1) {
      errors.push_back({config_file, cert_line,
                        "bad certificate file '" + cert.cert + "': " + openssl_reason()});
      ok = false;
    }
    if (!file_readable(cert.key)) {
      errors.push_back({config_file, key_line, "cannot read key file '" + cert.key + "'"});
      ok = false;
    } else if (SSL_CTX_use_PrivateKey_file(ctx, cert.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      const std::string reason = openssl_reason();
      // OpenSSL compares the key with the certificate loaded just before.
      errors.push_back(
          {config_file, key_line,
           reason.find("mismatch") != std::string::npos
               ? "key '" + cert.key + "' does not match certificate '" + cert.cert + "'"
               : "bad key file '" + cert.key + "': " + reason});
      ok = false;
    }
    if (ok && SSL_CTX_check_private_key(ctx) != 1) {
      errors.push_back({config_file, key_line,
                        "key '" + cert.key + "' does not match certificate '" + cert.cert + "'"});
      openssl_reason();
    }
    self->contexts_.push_back(std::move(context));
    self->server_names_.add_certificate(cert.server_names);
  }
  if (self->contexts_.empty()) {
    errors.push_back({config_file, 0, "tls needs at least one certificate"});
  }
  if (!errors.empty()) return core::unexpected(std::move(errors));
  return std::shared_ptr<const TlsServerContext>(std::move(self));
}

SSL_CTX* TlsServerContext::context_for(std::string_view server_name) const {
  const auto chosen = server_names_.choose(server_name);
  return chosen ? contexts_[*chosen]->native_handle() : nullptr;
}

int TlsServerContext::on_server_name(SSL* ssl, int*, void* arg) {
  const auto* self = static_cast<const TlsServerContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
  SSL_CTX* chosen = self->context_for(name);
  if (chosen && chosen != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, chosen);
  return SSL_TLSEXT_ERR_OK;
}

int TlsServerContext::on_alpn(SSL*, const unsigned char** out, unsigned char* out_len,
                              const unsigned char* in, unsigned int in_len, void* arg) {
  const auto* self = static_cast<const TlsServerContext*>(arg);
  unsigned char* selected = nullptr;
  // Server preference: the listener's order wins (SSL_select_next_proto's first list).
  if (SSL_select_next_proto(
          &selected, out_len, reinterpret_cast<const unsigned char*>(self->alpn_wire_.data()),
          static_cast<unsigned>(self->alpn_wire_.size()), in, in_len) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: HTTP/1.1 without ALPN
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace vx::adapters::net
