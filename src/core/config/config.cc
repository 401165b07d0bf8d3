// Lookups on the immutable config model; safe from any thread.
#include "core/config/config.h"

namespace vx::core::config {
namespace {

template <typename T>
const T* find_by_name(const std::vector<T>& items, std::string_view name) {
  for (const T& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

}  // namespace

const Cluster* Config::find_cluster(std::string_view name) const {
  return find_by_name(clusters, name);
}

const RateLimitPolicy* Config::find_policy(std::string_view name) const {
  return find_by_name(rate_limits.policies, name);
}

const WasmPlugin* Config::find_plugin(std::string_view name) const {
  return find_by_name(wasm.plugins, name);
}

}  // namespace vx::core::config
