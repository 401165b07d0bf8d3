// Where a cluster's endpoint is, as the upstream pool needs it, and which endpoint of the
// cluster a balancer's pick is. Shared by the pipeline's attempts and filters' side calls.
#pragma once

#include <cstddef>

#include "core/lb/endpoint_state.h"
#include "ports/upstream_pool.h"
#include "proxy/runtime.h"

namespace vx::proxy {

// The index of `endpoint` among the cluster's endpoints (REQUIRES: it is one of them).
size_t index_of_endpoint(const ClusterRuntime& cluster, const core::lb::EndpointState& endpoint);

// Endpoint `index` of `cluster`: its addresses, timeouts, pool limits, protocol and TLS name.
// Views into the cluster, valid as long as the Runtime holding it.
ports::UpstreamTarget upstream_target(const ClusterRuntime& cluster, size_t index);

}  // namespace vx::proxy
