#include "adapters/net/tls_check.h"

#include "adapters/net/tls_contexts.h"

namespace vx::adapters::net {

std::vector<core::config::Diagnostic> check_tls(const core::config::Config& config) {
  auto built = TlsContexts::build(config);
  if (built) return {};
  return built.error();
}

}  // namespace vx::adapters::net
