// SpanExporter: where the data plane hands finished spans (core::trace::SpanRecord) for export
// (adapters/telemetry/OtlpHttpExporter). The one port that is not awaitable: a span must never
// make a request wait, so submit() is a copy into a bounded queue or a counted drop.
#pragma once

#include "core/trace/span_record.h"

namespace vx::ports {

class SpanExporter {
 public:
  // Any worker thread, concurrently. Never blocks, never allocates. False when the span was
  // dropped (the queue is full, or export is not running).
  virtual bool submit(const core::trace::SpanRecord& span) noexcept = 0;

 protected:
  ~SpanExporter() = default;
};

}  // namespace vx::ports
