// TaskKind: what a spawned coroutine or a side thread does. Names the `task` label of
// vortex_contained_failures_total and the log line of a contained failure. Constants only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vx::ports {

enum class TaskKind : uint8_t {
  Connection,           // one downstream connection: TLS handshake, HTTP/1.1 or HTTP/2
  Stream,               // one HTTP/2 downstream stream
  RequestBodyPump,      // a request body sent upstream beside the response relay
  UpstreamSession,      // one HTTP/2 upstream connection
  Listener,             // one listener's accept loop on one worker
  WorkerTask,           // a worker's own chores: housekeeping tick, inbox, drain
  WorkerThread,         // a worker thread's event loop
  HealthChecker,        // the health checker's scheduler
  HealthProbe,          // one health check of one endpoint
  HealthCheckerThread,  // the health checker thread's event loop
  BanSweeperThread,     // the ban and rate-limit bucket sweeper
  MetricsServerThread,  // the metrics endpoint
  SideCall,             // a request a filter makes on its own (a Wasm plugin's HTTP call)
  SpanExporterThread,   // the OTLP span exporter (tracing)
  KubernetesWatcher,    // the VortexRoute list + watch loop
  KubernetesStatus,     // the VortexRoute status writer
};

inline constexpr size_t kTaskKindCount = static_cast<size_t>(TaskKind::KubernetesStatus) + 1;

// The label value: snake_case and stable, since dashboards and alerts select on it.
constexpr std::string_view task_kind_name(TaskKind kind) {
  switch (kind) {
    case TaskKind::Connection:
      return "connection";
    case TaskKind::Stream:
      return "stream";
    case TaskKind::RequestBodyPump:
      return "request_body_pump";
    case TaskKind::UpstreamSession:
      return "upstream_session";
    case TaskKind::Listener:
      return "listener";
    case TaskKind::WorkerTask:
      return "worker_task";
    case TaskKind::WorkerThread:
      return "worker_thread";
    case TaskKind::HealthChecker:
      return "health_checker";
    case TaskKind::HealthProbe:
      return "health_probe";
    case TaskKind::HealthCheckerThread:
      return "health_checker_thread";
    case TaskKind::BanSweeperThread:
      return "ban_sweeper_thread";
    case TaskKind::MetricsServerThread:
      return "metrics_server_thread";
    case TaskKind::SideCall:
      return "side_call";
    case TaskKind::SpanExporterThread:
      return "span_exporter_thread";
    case TaskKind::KubernetesWatcher:
      return "kubernetes_watcher";
    case TaskKind::KubernetesStatus:
      return "kubernetes_status";
  }
  return "unknown";
}

}  // namespace vx::ports
