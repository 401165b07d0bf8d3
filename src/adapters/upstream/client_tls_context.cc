#include "adapters/upstream/client_tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <fstream>

namespace vx::adapters::upstream {

core::Result<std::shared_ptr<const ports::UpstreamTlsContext>, std::string>
ClientTlsContext::create(const core::config::Cluster& cluster) {
  if (!cluster.tls) return std::shared_ptr<const ports::UpstreamTlsContext>();
  const core::config::UpstreamTls& tls = *cluster.tls;
  namespace ssl = boost::asio::ssl;
  ssl::context context(ssl::context::tls_client);
  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (tls.verify) {
    if (!tls.ca.empty()) {
      if (!std::ifstream(tls.ca).good()) {
        return core::unexpected("cannot read tls.ca '" + tls.ca + "'");
      }
      ERR_clear_error();
      if (SSL_CTX_load_verify_locations(native, tls.ca.c_str(), nullptr) != 1) {
        ERR_clear_error();
        return core::unexpected("tls.ca '" + tls.ca + "' holds no usable PEM certificate");
      }
    } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
      ERR_clear_error();
      return core::unexpected(std::string("cannot load the system CA store"));
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  }
  const bool h2 = cluster.protocol == core::config::UpstreamProtocol::H2;
  std::string alpn = h2 ? "h2" : "http/1.1";
  std::string wire(1, static_cast<char>(alpn.size()));
  wire += alpn;
  SSL_CTX_set_alpn_protos(native, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
  return std::shared_ptr<const ports::UpstreamTlsContext>(
      std::make_shared<ClientTlsContext>(std::move(context), tls.verify, std::move(alpn)));
}

bool ClientTlsContext::prepare(SSL* ssl, std::string_view server_name) const {
  const std::string name(server_name);
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  const bool is_ip = !ec;
  if (!is_ip && !name.empty() && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) return false;
  if (!verify_) return true;
  if (is_ip) {
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set1_host(ssl, name.c_str()) == 1;
}

bool ClientTlsContext::negotiated_ok(SSL* ssl) const {
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &proto, &len);
  const std::string_view selected(reinterpret_cast<const char*>(proto), len);
  // An HTTP/1.1 server that knows no ALPN selects nothing: still HTTP/1.1. HTTP/2 must be
  // chosen explicitly (RFC 9113 §3.2).
  if (alpn_ == "http/1.1") return selected.empty() || selected == alpn_;
  return selected == alpn_;
}

}  // namespace vx::adapters::upstream
