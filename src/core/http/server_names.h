// ServerNames: which of a TLS listener's certificates serves a TLS server name (SNI), as the
// certificates' `server_names` say (SPEC.md §2): an exact name first, then a "*.domain"
// wildcard covering one label, then "*"; none of them: the default certificate (the first).
// Shared by the TCP (OpenSSL) and HTTP/3 (GnuTLS) listeners. Immutable once built.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vx::core::http {

class ServerNames {
 public:
  // The next certificate's names, as configured (compared without case).
  void add_certificate(const std::vector<std::string>& names);
  // The index of the certificate that serves `server_name`, or nullopt for the default.
  std::optional<size_t> choose(std::string_view server_name) const;

 private:
  std::vector<std::vector<std::string>> names_;  // lower case, by certificate
};

}  // namespace vx::core::http
