// VortexRoute (SPEC.md §7, group vortex.dev, v1alpha1): the part of the custom resource Vortex
// reads, once its JSON has been decoded, and the check that turns its spec.backends into
// endpoints or a refusal with the reason its Accepted condition reports. Pure value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/result.h"

namespace vx::core::k8s {

// A resource with more backends is refused whole: the list of one cluster's endpoints is scanned
// by every pick of the balancer's fallback path, and no real deployment needs more.
inline constexpr size_t kMaxBackends = 1024;

// One item of spec.backends as written (the decoder checked the JSON types).
struct BackendSpec {
  int64_t id = -1;
  std::string address;  // "host:port"
  std::vector<std::string> ai_models;
  int64_t weight = 1;  // optional in the resource; the Vortex extension of the seed's schema
  bool operator==(const BackendSpec&) const = default;
};

struct VortexRoute {
  std::string namespace_;
  std::string name;  // the cluster it fills
  int64_t generation = 0;
  std::vector<BackendSpec> backends;
  // The Accepted condition its status holds now (a Vortex wrote it before), so a restart does not
  // write the same condition again.
  struct Condition {
    int64_t observed_generation = -1;
    bool accepted = false;
    std::string reason;
    std::string message;
    std::string last_transition_time;
    bool operator==(const Condition&) const = default;
  };
  std::optional<Condition> accepted_condition;
  // Non-empty: the spec could not be read (a field of the wrong type, no backends list ...);
  // the resource is refused with this message, reason InvalidSpec.
  std::string decode_error;
};

// The reasons of the Accepted condition (docs/kubernetes.md).
enum class Reason : uint8_t {
  Accepted,
  NoSuchCluster,        // the file declares no cluster of that name
  ClusterHasEndpoints,  // the file's cluster lists endpoints itself (SPEC.md §7: declared without)
  InvalidSpec,
  InvalidBackend,
  DuplicateBackendId,
  ApplyRefused,  // the config with these endpoints was refused (e.g. an address that does not
                 // resolve)
};
inline constexpr size_t kReasonCount = 7;

std::string_view reason_name(Reason reason);

struct Verdict {
  Reason reason = Reason::Accepted;
  std::string message;
  bool accepted() const { return reason == Reason::Accepted; }
  bool operator==(const Verdict&) const = default;
};

// "kubernetes/<namespace>/<name>": the source `vortexctl backends` shows for its endpoints.
std::string source_of(const VortexRoute& route);

// The endpoints spec.backends describes, in order; or why not:
// InvalidSpec (decode_error, more than kMaxBackends), InvalidBackend (id < 0, an address that is
// not host:port with an IP or DNS name and a port 1..65535, weight outside 1..2^32-1, an empty
// model name), DuplicateBackendId. The message names the backend by index and id. An empty list
// is accepted: the cluster then has no endpoints (503), like no resource at all.
Result<std::vector<config::Endpoint>, Verdict> endpoints_of(const VortexRoute& route);

}  // namespace vx::core::k8s
