// OtlpHttpExporter: the ports::SpanExporter that sends spans to an OTLP/HTTP collector
// (POST {otlp_endpoint}/v1/traces, protobuf). Workers submit() into a bounded lock-free queue
// (SpanQueue); one side thread drains it in batches (up to kMaxBatch spans, or whatever is
// there kScheduleDelay after the first), encodes them (core/trace/otlp_encoder.h) and posts
// them with bounded timeouts and the OTLP retry rules (core/trace/export_backoff.h). A slow,
// failing or absent collector only holds this thread: the queue fills and further spans are
// dropped and counted (vortex_tracing_spans_dropped_total). Process-wide, thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/telemetry/span_queue.h"
#include "core/config/config.h"
#include "core/trace/otlp_encoder.h"
#include "ports/span_exporter.h"

namespace vx::adapters::telemetry {

class OtlpHttpExporter final : public ports::SpanExporter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxBatch = 512;
  static constexpr std::chrono::milliseconds kScheduleDelay{500};
  // One export request's whole time (connect at most 1 s of it).
  static constexpr std::chrono::milliseconds kExportTimeout{5000};

  // service_version and host_name go into every export's resource.
  OtlpHttpExporter(std::string service_version, std::string host_name);
  ~OtlpHttpExporter();
  OtlpHttpExporter(const OtlpHttpExporter&) = delete;
  OtlpHttpExporter& operator=(const OtlpHttpExporter&) = delete;

  // Control thread (start, reload commit). The first call with an otlp_endpoint makes the queue
  // (tracing.queue_size: fixed from then on, a reload cannot resize it) and starts the thread;
  // every call sets the endpoint and service name the next batch goes out with. An empty
  // endpoint leaves the thread idle (streams no longer trace; what is queued is dropped).
  void configure(const core::config::Tracing& tracing);
  // Control thread, once, after the workers stopped: sends what is queued, giving up after
  // `flush_budget`, then ends the thread.
  void stop(std::chrono::milliseconds flush_budget);

  // ports::SpanExporter
  bool submit(const core::trace::SpanRecord& span) noexcept override;

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t exported() const { return exported_.load(std::memory_order_relaxed); }

 private:
  struct Settings {
    std::string url;  // {otlp_endpoint}/v1/traces; empty: not exporting
    core::trace::ResourceInfo resource;
  };

  void run();
  // Takes up to kMaxBatch spans off the queue, encoding each in place, and posts them with the
  // retry rules, never past `deadline` (when set).
  void export_batch(SpanQueue& queue, std::optional<Clock::time_point> deadline);
  // Waits up to `d`, less when stop() is called. False once stopping.
  bool idle_for(std::chrono::milliseconds d);

  std::atomic<SpanQueue*> queue_{nullptr};
  std::unique_ptr<SpanQueue> owned_queue_;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> exported_{0};

  std::mutex mutex_;  // the control thread and the exporter's only; never a worker
  std::condition_variable wake_;
  Settings settings_;
  bool stopping_ = false;
  std::optional<Clock::time_point> flush_deadline_;
  std::atomic<int64_t> give_up_at_ns_{0};  // flush_deadline_ for a post in flight to read
  const std::string service_version_;
  const std::string host_name_;
  std::thread thread_;
};

}  // namespace vx::adapters::telemetry
