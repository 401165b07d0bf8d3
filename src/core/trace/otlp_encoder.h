// OTLP/protobuf encoding of finished spans: one ExportTraceServiceRequest
// (opentelemetry/proto/collector/trace/v1/trace_service.proto, field numbers as in proto/
// opentelemetry/) holding one ResourceSpans with the process's resource and one ScopeSpans.
// Attribute names follow the OpenTelemetry HTTP semantic conventions (docs/tracing.md lists
// them). Pure; called on the exporter's thread.
#pragma once

#include <span>
#include <string>

#include "core/trace/span_record.h"

namespace vx::core::trace {

// Resource attributes (service.name, service.version, host.name).
struct ResourceInfo {
  std::string service_name;
  std::string service_version;
  std::string host_name;
};

// Appends the request for `spans` to `out` (cleared first).
void encode_export_request(const ResourceInfo& resource, std::span<const SpanRecord> spans,
                           std::string& out);

// The span's name: SERVER "{method} {http.route}" (just the method without a route template),
// CLIENT "{method}" (semconv: low cardinality). Written into `out`.
void span_name(const SpanRecord& span, std::string& out);

}  // namespace vx::core::trace
