#include "adapters/net/tls_contexts.h"

namespace vx::adapters::net {

core::Result<std::shared_ptr<const TlsContexts>, std::vector<core::config::Diagnostic>>
TlsContexts::build(const core::config::Config& config) {
  auto contexts = std::make_shared<TlsContexts>();
  std::vector<core::config::Diagnostic> errors;
  for (const auto& listener : config.listeners) {
    if (!listener.tls) continue;
    auto context = TlsServerContext::create(*listener.tls, config.file);
    if (!context) {
      errors.insert(errors.end(), context.error().begin(), context.error().end());
      continue;
    }
    contexts->by_listener_[listener.name] = std::move(*context);
  }
  if (!errors.empty()) return core::unexpected(std::move(errors));
  return std::shared_ptr<const TlsContexts>(std::move(contexts));
}

}  // namespace vx::adapters::net
