#include "core/k8s/vortex_route.h"

#include <limits>
#include <set>

#include "core/config/socket_address.h"

namespace vx::core::k8s {

std::string_view reason_name(Reason reason) {
  switch (reason) {
    case Reason::Accepted:
      return "Accepted";
    case Reason::NoSuchCluster:
      return "NoSuchCluster";
    case Reason::ClusterHasEndpoints:
      return "ClusterHasEndpoints";
    case Reason::InvalidSpec:
      return "InvalidSpec";
    case Reason::InvalidBackend:
      return "InvalidBackend";
    case Reason::DuplicateBackendId:
      return "DuplicateBackendId";
    case Reason::ApplyRefused:
      return "ApplyRefused";
  }
  return "Unknown";
}

std::string source_of(const VortexRoute& route) {
  return "kubernetes/" + route.namespace_ + "/" + route.name;
}

Result<std::vector<config::Endpoint>, Verdict> endpoints_of(const VortexRoute& route) {
  if (!route.decode_error.empty()) {
    return unexpected(Verdict{Reason::InvalidSpec, route.decode_error});
  }
  if (route.backends.size() > kMaxBackends) {
    return unexpected(Verdict{Reason::InvalidSpec,
                              "spec.backends has " + std::to_string(route.backends.size()) +
                                  " items; at most " + std::to_string(kMaxBackends) + " allowed"});
  }
  std::vector<config::Endpoint> out;
  std::set<int64_t> ids;
  for (size_t i = 0; i < route.backends.size(); ++i) {
    const BackendSpec& b = route.backends[i];
    const std::string who =
        "spec.backends[" + std::to_string(i) + "] (id " + std::to_string(b.id) + ")";
    auto bad = [&](std::string why) {
      return unexpected(Verdict{Reason::InvalidBackend, who + ": " + std::move(why)});
    };
    if (b.id < 0) return bad("id must be 0 or more");
    if (!ids.insert(b.id).second) {
      return unexpected(
          Verdict{Reason::DuplicateBackendId, who + ": id " + std::to_string(b.id) + " repeats"});
    }
    auto address = config::parse_socket_address(b.address, config::HostKind::IpOrName);
    if (!address) return bad(address.error());
    if (b.weight < 1 || b.weight > std::numeric_limits<uint32_t>::max()) {
      return bad("weight must be between 1 and 4294967295");
    }
    for (const std::string& model : b.ai_models) {
      if (model.empty()) return bad("ai_models must not hold an empty name");
    }
    config::Endpoint e;
    e.address = std::move(*address);
    e.weight = static_cast<uint32_t>(b.weight);
    e.ai_models = b.ai_models;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace vx::core::k8s
