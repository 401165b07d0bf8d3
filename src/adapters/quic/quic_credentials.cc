#include "adapters/quic/quic_credentials.h"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

namespace vx::adapters::quic {

namespace {

// TLS 1.3 only (RFC 9001 §4.2), the AEADs QUIC defines, no middlebox compatibility mode.
constexpr const char* kPriority =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:"
    "%DISABLE_TLS13_COMPAT_MODE";

}  // namespace

core::Result<std::unique_ptr<QuicCredentials>, std::string> QuicCredentials::load(
    const core::config::Listener& listener) {
  const std::string prefix = "listener " + listener.name + ": http3: ";
  if (!listener.tls || listener.tls->certificates.empty()) {
    return core::unexpected(prefix + "needs tls certificates");
  }
  std::unique_ptr<QuicCredentials> self(new QuicCredentials);
  for (const auto& cert : listener.tls->certificates) {
    gnutls_certificate_credentials_t credentials = nullptr;
    if (gnutls_certificate_allocate_credentials(&credentials) != 0) {
      return core::unexpected(prefix + "cannot allocate credentials");
    }
    self->credentials_.push_back(credentials);
    const int rv = gnutls_certificate_set_x509_key_file2(
        credentials, cert.cert.c_str(), cert.key.c_str(), GNUTLS_X509_FMT_PEM, nullptr, 0);
    if (rv < 0) {
      return core::unexpected(prefix + "cannot load " + cert.cert + ": " + gnutls_strerror(rv));
    }
    self->server_names_.add_certificate(cert.server_names);
  }
  return self;
}

QuicCredentials::~QuicCredentials() {
  for (auto credentials : credentials_) gnutls_certificate_free_credentials(credentials);
}

int QuicCredentials::on_client_hello(gnutls_session_t session) {
  const auto* self = static_cast<const QuicCredentials*>(gnutls_db_get_ptr(session));
  char name[256];  // RFC 1035: a host name is at most 253 bytes
  size_t size = sizeof name;
  unsigned int type = 0;
  if (gnutls_server_name_get(session, name, &size, &type, 0) != 0 || type != GNUTLS_NAME_DNS) {
    return 0;  // no SNI (or too long to be a host name): the default certificate
  }
  const auto chosen = self->server_names_.choose(std::string_view(name, size));
  if (chosen && *chosen != 0) {
    return gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, self->credentials_[*chosen]);
  }
  return 0;
}

gnutls_session_t QuicCredentials::new_session() const {
  gnutls_session_t session = nullptr;
  if (gnutls_init(&session, GNUTLS_SERVER | GNUTLS_NO_END_OF_EARLY_DATA) != 0) {
    return nullptr;
  }
  static const gnutls_datum_t kAlpn{
      const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>("h3")), 2};
  if (gnutls_priority_set_direct(session, kPriority, nullptr) != 0 ||
      ngtcp2_crypto_gnutls_configure_server_session(session) != 0 ||
      gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, credentials_.front()) != 0 ||
      gnutls_alpn_set_protocols(session, &kAlpn, 1, GNUTLS_ALPN_MANDATORY) != 0) {
    gnutls_deinit(session);
    return nullptr;
  }
  // GnuTLS gives a server hook no user pointer of its own, and the session's is ngtcp2's
  // (its connection reference). The session database's pointer is free: no resumption, so no
  // database callbacks that would read it.
  gnutls_db_set_ptr(session, const_cast<QuicCredentials*>(this));
  gnutls_handshake_set_post_client_hello_function(session, on_client_hello);
  return session;
}

}  // namespace vx::adapters::quic
