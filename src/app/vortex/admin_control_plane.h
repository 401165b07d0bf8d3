// ControlPlane: the running process as the admin API and the metrics endpoint see it: config
// reload (admin ReloadConfig and SIGHUP), stats, backends, bans, and the Prometheus exposition.
// Owned by the main thread; its methods run on the main, gRPC and metrics threads and are
// thread-safe (reloads are serialised by a mutex; reads go through atomics and the holder).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/admin/admin_backend.h"
#include "adapters/admin/admin_server.h"
#include "adapters/admin/metrics_http_server.h"
#include "adapters/admin/metrics_source.h"
#include "adapters/net/connection_budget.h"
#include "core/config/config.h"
#include "proxy/ban_registry.h"
#include "proxy/runtime_holder.h"

namespace vx::app {

class Worker;

class ControlPlane final : public adapters::admin::AdminBackend,
                           public adapters::admin::MetricsSource {
 public:
  // A subsystem's part of a reload, run after the new config and runtime are built and before
  // anything is swapped: checks `config` and returns the action that applies it (run only when
  // every step and the listeners agreed), or every message that refuses it.
  using Commit = std::function<void()>;
  using ReloadStep = std::function<core::Result<Commit, std::vector<std::string>>(
      const core::config::Config& config)>;

  ControlPlane(std::shared_ptr<const core::config::Config> config, proxy::RuntimeHolder& holder,
               const std::vector<std::unique_ptr<Worker>>& workers,
               const adapters::net::ConnectionBudget& budget);
  ~ControlPlane() override;

  // Main thread, before start_servers().
  void add_reload_step(ReloadStep step);
  void attach_bans(proxy::BanRegistry* bans) { bans_ = bans; }

  // Starts the admin socket (admin.socket) and the metrics endpoint (metrics.address; "" =
  // off). Refuses with the reason (socket taken by a live Vortex, port in use ...).
  core::Result<void, std::string> start_servers();
  // Stops both; calls in flight finish first. Before the workers drain.
  void stop_servers();
  // Listeners open on every worker: /readyz answers 200 from now on.
  void set_ready(bool ready) { ready_.store(ready, std::memory_order_release); }

  // adapters::admin::AdminBackend
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
  bool ready() override { return ready_.load(std::memory_order_acquire); }

 private:
  adapters::admin::ReloadResult refuse(const std::string& path, std::vector<std::string> errors);
  std::shared_ptr<const core::config::Config> current_config() const;

  proxy::RuntimeHolder& holder_;
  const std::vector<std::unique_ptr<Worker>>& workers_;
  const adapters::net::ConnectionBudget& budget_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::vector<ReloadStep> steps_;
  proxy::BanRegistry* bans_ = nullptr;

  std::mutex reload_mutex_;          // one reload at a time
  mutable std::mutex config_mutex_;  // guards config_ (read by stats on other threads)
  std::shared_ptr<const core::config::Config> config_;  // the config serving now
  std::atomic<uint64_t> generation_{1};
  std::atomic<uint64_t> reloads_succeeded_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::atomic<bool> ready_{false};

  std::unique_ptr<adapters::admin::AdminServer> admin_server_;
  std::unique_ptr<adapters::admin::MetricsHttpServer> metrics_server_;
};

}  // namespace vx::app
