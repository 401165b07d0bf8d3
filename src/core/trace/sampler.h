// Parent-based sampling (OpenTelemetry's ParentBased(TraceIdRatioBased)): a continued trace
// keeps its caller's decision (the sampled flag); a new trace is sampled with probability
// `ratio`, decided from its trace id so every hop that uses the same rule agrees. Pure.
#pragma once

#include <optional>

#include "core/trace/trace_context.h"

namespace vx::core::trace {

// The decision for a trace id of a new trace. ratio outside [0, 1] is clamped.
bool sample_new_trace(const TraceId& id, double ratio);

// The decision for a stream: the parent's flag when there is a (valid) parent, else the ratio.
bool should_sample(const std::optional<TraceParent>& parent, const TraceId& id, double ratio);

}  // namespace vx::core::trace
