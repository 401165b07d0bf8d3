// InMemorySpanExporter: a ports::SpanExporter that keeps every span it is given, up to a
// capacity (then refuses, as a full queue does). Single-threaded tests only.
#pragma once

#include <vector>

#include "ports/span_exporter.h"

namespace vx::testing {

class InMemorySpanExporter final : public ports::SpanExporter {
 public:
  explicit InMemorySpanExporter(size_t capacity = 1024) : capacity_(capacity) {}
  bool submit(const core::trace::SpanRecord& span) noexcept override {
    if (spans.size() >= capacity_) return false;
    spans.push_back(span);
    return true;
  }
  std::vector<core::trace::SpanRecord> spans;

 private:
  size_t capacity_;
};

}  // namespace vx::testing
