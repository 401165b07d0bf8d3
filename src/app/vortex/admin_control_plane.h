// ControlPlane: the running process as the admin API and the metrics endpoint see it: config
// file reload (admin ReloadConfig and SIGHUP: load the file, hand it to the ConfigApplier),
// stats, backends, bans, and the Prometheus exposition. Owned by the main thread; its methods
// run on the main, gRPC and metrics threads and are thread-safe (the applier serialises
// applies; reads go through atomics and the holder).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/admin/admin_backend.h"
#include "adapters/admin/admin_server.h"
#include "adapters/admin/metrics_http_server.h"
#include "adapters/admin/metrics_source.h"
#include "adapters/net/connection_budget.h"
#include "adapters/telemetry/otlp_http_exporter.h"
#include "app/vortex/config_applier.h"
#include "app/vortex/kernel_bans.h"
#include "proxy/ban_registry.h"
#include "proxy/runtime_holder.h"

namespace vx::app {

class KubernetesRoutes;
class WasmPlugins;
class Worker;

class ControlPlane final : public adapters::admin::AdminBackend,
                           public adapters::admin::MetricsSource {
 public:
  // `applier`, `holder`, `workers` and `budget` must outlive the control plane.
  ControlPlane(ConfigApplier& applier, const proxy::RuntimeHolder& holder,
               const std::vector<std::unique_ptr<Worker>>& workers,
               const adapters::net::ConnectionBudget& budget);
  ~ControlPlane() override;

  // Main thread, before start_servers().
  void attach_bans(proxy::BanRegistry* bans) { bans_ = bans; }
  void attach_kernel_bans(KernelBans* kernel_bans) { kernel_bans_ = kernel_bans; }
  // Where vortex_tracing_spans_dropped_total comes from.
  void attach_tracing(const adapters::telemetry::OtlpHttpExporter* spans) { spans_ = spans; }
  void attach_wasm(WasmPlugins* wasm) { wasm_ = wasm; }
  // Where the vortex_kubernetes_* metrics come from (kubernetes.enabled).
  void attach_kubernetes(const KubernetesRoutes* kubernetes) { kubernetes_ = kubernetes; }

  // Starts the admin socket (admin.socket) and the metrics endpoint (metrics.address; "" =
  // off). Refuses with the reason (socket taken by a live Vortex, port in use ...).
  core::Result<void, std::string> start_servers();
  // Stops both; calls in flight finish first. Before the workers drain.
  void stop_servers();

  // adapters::admin::AdminBackend. reload() loads the file (`path`, or the running one's when
  // empty; parse and validate, every "FILE:LINE: message") and applies it. update_wasm() makes
  // `wasm_binary` the module of plugin `plugin_name` (empty: the config's first) and applies
  // the running config with it: the module compiles and starts on every worker before new
  // requests reach it, requests in flight finish on the old one, and a module that cannot is
  // refused with why while the old one keeps serving (WasmPlugins::push says how long it lasts).
  adapters::admin::ReloadResult reload(const std::string& path) override;
  adapters::admin::Stats stats() override;
  std::vector<adapters::admin::BackendInfo> backends() override;
  adapters::admin::BanResult ban(const std::string& ip, uint64_t ttl_ms) override;
  adapters::admin::CallResult unban(const std::string& ip) override;
  adapters::admin::BanListResult bans() override;
  adapters::admin::CallResult update_wasm(std::string_view wasm_binary,
                                          const std::string& plugin_name) override;

  // adapters::admin::MetricsSource
  std::string render_metrics() override;
  // Ready as the applier is: listeners open on every worker, not draining.
  bool ready() override { return applier_.ready(); }

 private:
  ConfigApplier& applier_;
  const proxy::RuntimeHolder& holder_;
  const std::vector<std::unique_ptr<Worker>>& workers_;
  const adapters::net::ConnectionBudget& budget_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  proxy::BanRegistry* bans_ = nullptr;
  KernelBans* kernel_bans_ = nullptr;
  WasmPlugins* wasm_ = nullptr;
  const adapters::telemetry::OtlpHttpExporter* spans_ = nullptr;
  const KubernetesRoutes* kubernetes_ = nullptr;
  std::mutex push_mutex_;  // one UpdateWasmPlugin at a time: push, apply, restore if refused

  std::unique_ptr<adapters::admin::AdminServer> admin_server_;
  std::unique_ptr<adapters::admin::MetricsHttpServer> metrics_server_;
};

}  // namespace vx::app
