// The Kubernetes view laid over the file's config (SPEC.md §7): every VortexRoute named N fills
// the endpoints of the file's cluster N, which the file declares without endpoints. Applied on
// every apply whatever its source (a watch event, SIGHUP, admin ReloadConfig), so a file reload
// keeps what Kubernetes supplied. Pure.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/k8s/vortex_route.h"

namespace vx::core::k8s {

// The last full view of the watched namespace: every VortexRoute by name.
using RouteView = std::map<std::string, VortexRoute, std::less<>>;

struct Overlaid {
  std::shared_ptr<const config::Config> config;
  std::map<std::string, Verdict, std::less<>> verdicts;  // by resource name, one per resource
  // The version of each resource whose endpoints `config` holds: the next overlay's `previous`.
  RouteView in_effect;
};

// `file`: the config as loaded from the file. Returns it with each accepted resource's endpoints
// in its cluster (the same pointer when the view changes nothing), and a verdict per resource:
// Accepted, NoSuchCluster (no cluster of that name), ClusterHasEndpoints (the file gives the
// cluster endpoints of its own: the file wins), or endpoints_of()'s refusal. A refused resource
// changes nothing; the others still apply.
// `previous`: what was in effect before (the last applied Overlaid::in_effect). A resource
// whose backends are refused changes nothing (SPEC.md §7): its cluster keeps the endpoints of
// its version in `previous` when there is one, and the verdict's message says so.
Overlaid overlay(const std::shared_ptr<const config::Config>& file, const RouteView& view,
                 const RouteView& previous = {});

}  // namespace vx::core::k8s
