// The Kubernetes API's JSON for VortexRoutes (vortex.dev/v1alpha1): a list, one watch event
// (one line of a ?watch=1 stream), and the merge patch of a resource's status. nlohmann-json
// stays inside route_json.cc; nothing here throws. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/k8s/vortex_route.h"
#include "core/result.h"

namespace vx::adapters::k8s {

struct RouteList {
  std::string resource_version;  // metadata.resourceVersion: where the watch starts
  std::string continue_token;    // metadata.continue: non-empty while more pages follow
  std::vector<core::k8s::VortexRoute> items;
};

struct WatchEvent {
  enum class Type : uint8_t { Added, Modified, Deleted, Bookmark, Error };
  Type type = Type::Error;
  core::k8s::VortexRoute route;  // Added, Modified, Deleted
  std::string resource_version;  // the object's metadata.resourceVersion (Bookmark included)
  int64_t code = 0;              // Error: the Status object's code (410 = Gone: list again)
  std::string message;           // Error: the Status object's message
};

// A spec that is not what the CRD describes does not refuse the list or the event: the item
// comes back with VortexRoute::decode_error set (it is refused, with that message, in its
// status). Refused (the error): not JSON, not a list / an event, an item without metadata.name.
core::Result<RouteList, std::string> decode_route_list(std::string_view body,
                                                       std::string_view namespace_);
core::Result<WatchEvent, std::string> decode_watch_event(std::string_view line,
                                                         std::string_view namespace_);

// The body of PATCH .../vortexroutes/NAME/status (application/merge-patch+json): the status with
// observedGeneration and the one condition Vortex owns, "Accepted" (a metav1.Condition).
// `transition_time`: RFC 3339, when the condition's status last changed.
std::string accepted_status_patch(int64_t generation, const core::k8s::Verdict& verdict,
                                  std::string_view transition_time);

}  // namespace vx::adapters::k8s
