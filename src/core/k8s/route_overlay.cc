#include "core/k8s/route_overlay.h"

namespace vx::core::k8s {

Overlaid overlay(const std::shared_ptr<const config::Config>& file, const RouteView& view,
                 const RouteView& previous) {
  Overlaid out;
  out.config = file;
  if (view.empty()) return out;
  auto filled = std::make_shared<config::Config>(*file);
  bool changed = false;
  for (const auto& [name, route] : view) {
    config::Cluster* cluster = nullptr;
    for (config::Cluster& c : filled->clusters) {
      if (c.name == name) cluster = &c;
    }
    if (cluster == nullptr) {
      out.verdicts[name] =
          Verdict{Reason::NoSuchCluster, "the config declares no cluster '" + name + "'"};
      continue;
    }
    if (!cluster->endpoints.empty()) {
      out.verdicts[name] = Verdict{Reason::ClusterHasEndpoints,
                                   "cluster '" + name +
                                       "' lists endpoints in the config file; only a cluster "
                                       "declared without endpoints is filled from Kubernetes"};
      continue;
    }
    auto endpoints = endpoints_of(route);
    if (!endpoints) {
      Verdict refused = std::move(endpoints.error());
      // SPEC.md §7: a bad resource changes nothing, so the version in effect stays.
      auto kept = previous.find(name);
      if (kept != previous.end()) {
        if (auto earlier = endpoints_of(kept->second)) {
          refused.message += "; cluster '" + name + "' keeps the endpoints of generation " +
                             std::to_string(kept->second.generation);
          changed = changed || !earlier->empty();
          cluster->endpoints = std::move(*earlier);
          out.in_effect.insert_or_assign(name, kept->second);
        }
      }
      out.verdicts[name] = std::move(refused);
      continue;
    }
    const size_t count = endpoints->size();
    cluster->endpoints = std::move(*endpoints);
    changed = changed || count > 0;
    out.in_effect.insert_or_assign(name, route);
    out.verdicts[name] = Verdict{
        Reason::Accepted, std::to_string(count) + " endpoints applied to cluster '" + name + "'"};
  }
  if (changed) out.config = std::move(filled);
  return out;
}

}  // namespace vx::core::k8s
