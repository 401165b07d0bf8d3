#include "adapters/telemetry/otlp_http_exporter.h"

#include <cstdio>

#include "adapters/telemetry/otlp_http_client.h"
#include "core/ports/random.h"
#include "core/trace/export_backoff.h"
#include "ports/guarded_thread.h"

namespace vx::adapters::telemetry {

namespace {

using std::chrono::milliseconds;
using Verdict = core::trace::ExportVerdict::Action;

// How often an idle exporter looks at the queue. Workers never signal it (a futex wake per span
// would be a syscall on the request path); at 20 ms a 4096-span queue absorbs ~200k spans/s
// between looks.
constexpr milliseconds kPoll{20};

std::string traces_url(std::string_view endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.remove_suffix(1);
  return std::string(endpoint) + "/v1/traces";
}

}  // namespace

OtlpHttpExporter::OtlpHttpExporter(std::string service_version, std::string host_name)
    : service_version_(std::move(service_version)), host_name_(std::move(host_name)) {}

OtlpHttpExporter::~OtlpHttpExporter() {
  stop(milliseconds(0));
}

void OtlpHttpExporter::configure(const core::config::Tracing& tracing) {
  std::lock_guard lock(mutex_);
  settings_.url = tracing.otlp_endpoint.empty() ? std::string{} : traces_url(tracing.otlp_endpoint);
  settings_.resource = {tracing.service_name, service_version_, host_name_};
  if (settings_.url.empty() || owned_queue_ || stopping_) return;
  owned_queue_ = std::make_unique<SpanQueue>(tracing.queue_size);
  queue_.store(owned_queue_.get(), std::memory_order_release);
  thread_ = std::thread([this] {
    ports::run_guarded_thread(ports::TaskKind::SpanExporterThread, [this] { run(); });
  });
}

void OtlpHttpExporter::stop(milliseconds flush_budget) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    flush_deadline_ = Clock::now() + flush_budget;
    give_up_at_ns_.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(flush_deadline_->time_since_epoch())
            .count());
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool OtlpHttpExporter::submit(const core::trace::SpanRecord& span) noexcept {
  SpanQueue* queue = queue_.load(std::memory_order_acquire);
  if (!queue) return false;  // tracing switched on by a reload a moment ago
  if (queue->push(span)) return true;
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool OtlpHttpExporter::idle_for(milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

void OtlpHttpExporter::run() {
  SpanQueue& queue = *queue_.load(std::memory_order_acquire);
  // Spans wait in the queue, not in a copy, until their batch is due.
  std::optional<Clock::time_point> first;  // when the waiting spans were first seen
  for (;;) {
    bool stopping;
    std::optional<Clock::time_point> deadline;
    {
      std::lock_guard lock(mutex_);
      stopping = stopping_;
      deadline = flush_deadline_;
    }
    const size_t waiting = queue.size_hint();
    if (waiting > 0 && !first) first = Clock::now();
    const bool due = waiting > 0 &&
                     (waiting >= kMaxBatch || stopping || Clock::now() - *first >= kScheduleDelay);
    if (due) {
      export_batch(queue, stopping ? deadline : std::nullopt);
      first.reset();
      continue;  // more may be waiting
    }
    if (stopping) return;  // everything queued went out (or was given up on)
    idle_for(kPoll);
  }
}

void OtlpHttpExporter::export_batch(SpanQueue& queue, std::optional<Clock::time_point> deadline) {
  thread_local OtlpHttpClient client;
  thread_local core::trace::OtlpBatchEncoder encoder(kMaxBatch);
  thread_local core::Xoshiro256 jitter(
      static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
  Settings settings;
  {
    std::lock_guard lock(mutex_);
    settings = settings_;
  }
  if (settings.url.empty()) {  // tracing was switched off by a reload: what waits is dropped
    queue.consume(kMaxBatch, [](const core::trace::SpanRecord&) {});
    return;
  }
  encoder.begin(settings.resource);
  const size_t batch =
      queue.consume(kMaxBatch, [](const core::trace::SpanRecord& span) { encoder.add(span); });
  if (batch == 0) return;
  const std::string_view body = encoder.finish();
  for (unsigned retries = 0;; ++retries) {
    milliseconds timeout = kExportTimeout;
    if (deadline) {
      const auto left = std::chrono::duration_cast<milliseconds>(*deadline - Clock::now());
      if (left <= milliseconds(0)) break;
      timeout = std::min(timeout, left);
    }
    const core::trace::ExportAttempt attempt =
        client.post(settings.url, body, timeout, &give_up_at_ns_);
    const core::trace::ExportVerdict verdict =
        core::trace::judge_export(attempt, retries, jitter.next());
    if (verdict.action == Verdict::Done) {
      exported_.fetch_add(batch, std::memory_order_relaxed);
      return;
    }
    if (verdict.action == Verdict::Drop) break;
    if (deadline && Clock::now() + verdict.delay >= *deadline) break;
    idle_for(verdict.delay);  // cut short by stop(): the flush deadline then applies
    std::lock_guard lock(mutex_);
    deadline = flush_deadline_;
  }
  // Rate-limited: a dead collector would otherwise log every batch.
  static Clock::time_point last_log;
  if (Clock::now() - last_log >= std::chrono::seconds(10)) {
    last_log = Clock::now();
    std::fprintf(stderr, "vortex: tracing: %zu spans not exported to %s\n", batch,
                 settings.url.c_str());
  }
}

}  // namespace vx::adapters::telemetry
