#include "app/vortex/admin_control_plane.h"

#include <cstdio>
#include <map>

#include "adapters/admin/metrics_exposition.h"
#include "adapters/config/yaml_config_loader.h"
#include "app/version.h"
#include "app/vortex/kubernetes_routes.h"
#include "app/vortex/wasm_plugins.h"
#include "app/vortex/worker.h"
#include "core/config/socket_address.h"
#include "ports/contained_failures.h"

namespace vx::app {

namespace admin = adapters::admin;

namespace {

uint64_t millis_until(core::TimePoint until, core::TimePoint now) {
  if (until <= now) return 0;
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count());
}

}  // namespace

ControlPlane::ControlPlane(ConfigApplier& applier, const proxy::RuntimeHolder& holder,
                           const std::vector<std::unique_ptr<Worker>>& workers,
                           const adapters::net::ConnectionBudget& budget)
    : applier_(applier), holder_(holder), workers_(workers), budget_(budget) {}

ControlPlane::~ControlPlane() {
  stop_servers();
}

core::Result<void, std::string> ControlPlane::start_servers() {
  const auto config = applier_.current();
  auto admin_server = admin::AdminServer::start(config->admin.socket, *this);
  if (!admin_server) return core::unexpected(admin_server.error());
  admin_server_ = std::move(*admin_server);
  if (!config->metrics.address.empty()) {
    auto address = core::config::parse_socket_address(config->metrics.address,
                                                      core::config::HostKind::IpLiteral);
    if (!address) return core::unexpected("metrics.address: " + address.error());
    auto metrics = admin::MetricsHttpServer::start(*address, *this);
    if (!metrics) return core::unexpected(metrics.error());
    metrics_server_ = std::move(*metrics);
  }
  return {};
}

void ControlPlane::stop_servers() {
  if (admin_server_) admin_server_->stop();
  if (metrics_server_) metrics_server_->stop();
}

admin::ReloadResult ControlPlane::reload(const std::string& requested_path) {
  const std::string path = requested_path.empty() ? applier_.current()->file : requested_path;
  // Parsed and validated here, on the calling (control) thread; applied one at a time.
  auto loaded = adapters::config::load_config_file(path);
  if (!loaded) {
    std::vector<std::string> errors;
    for (const auto& d : loaded.error()) errors.push_back(d.to_string());
    return applier_.apply(core::unexpected(std::move(errors)), path);
  }
  return applier_.apply(std::move(*loaded), path);
}

admin::Stats ControlPlane::stats() {
  admin::Stats stats;
  const auto config = applier_.current();
  stats.active_connections = budget_.open.load(std::memory_order_relaxed);
  std::map<uint16_t, uint64_t> by_status;
  for (const auto& worker : workers_) {
    worker->metrics().visit([&](const auto& routes, const auto&, const auto&, const auto&) {
      for (const auto& r : routes) {
        for (uint16_t s = proxy::StatusCounters::kFirst; s <= proxy::StatusCounters::kLast; ++s) {
          const uint64_t n = r->requests.at(s);
          if (n != 0) by_status[s] += n;
        }
      }
    });
  }
  for (const auto& [status, count] : by_status) {
    stats.responses_by_status.push_back({status, count});
    stats.requests_total += count;
  }
  stats.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  stats.config_generation = applier_.generation();
  stats.workers = static_cast<uint32_t>(workers_.size());
  stats.listeners = static_cast<uint32_t>(config->listeners.size());
  stats.reloads_succeeded = applier_.applied();
  stats.reloads_failed = applier_.refused();
  stats.version = kVersion;
  stats.config_path = config->file;
  stats.bans_active = bans_ ? bans_->active() : 0;
  return stats;
}

std::vector<admin::BackendInfo> ControlPlane::backends() {
  std::vector<admin::BackendInfo> out;
  const auto runtime = holder_.load();
  if (!runtime) return out;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& cluster : runtime->clusters()) {
    const std::string source =
        kubernetes_ ? kubernetes_->source_of_cluster(cluster.config->name) : "file";
    for (const core::lb::EndpointState* e : cluster.balancer->endpoints()) {
      admin::BackendInfo info;
      info.source = source;
      info.cluster = cluster.config->name;
      info.address = e->address();
      info.ewma_ms = e->latency().value_ms_at(now);
      info.active = e->active();
      info.breaker = static_cast<admin::BreakerState>(e->breaker().state(now));
      info.healthy = e->healthy();
      info.weight = e->weight();
      out.push_back(std::move(info));
    }
  }
  return out;
}

admin::BanResult ControlPlane::ban(const std::string& ip, uint64_t ttl_ms) {
  admin::BanResult result;
  if (!bans_) {
    result.message = "bans disabled";
    return result;
  }
  if (!core::config::is_ipv4_literal(ip) && !core::config::is_ipv6_literal(ip)) {
    result.message = "'" + ip + "' is not an IPv4 or IPv6 address";
    return result;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!bans_->ban(ip, std::chrono::milliseconds(ttl_ms), now)) {
    result.message = "ban list full";
    return result;
  }
  for (const auto& entry : bans_->list(now)) {
    if (entry.ip == ip) result.expires_in_ms = millis_until(entry.until, now);
  }
  result.success = true;
  result.message = "banned " + ip + " for " + std::to_string(result.expires_in_ms) + " ms";
  return result;
}

admin::CallResult ControlPlane::unban(const std::string& ip) {
  if (!bans_) return {false, "bans disabled"};
  if (!bans_->unban(ip)) return {false, ip + " is not banned"};
  return {true, "unbanned " + ip};
}

admin::BanListResult ControlPlane::bans() {
  admin::BanListResult result;
  if (!bans_) {
    result.message = "bans disabled";
    return result;
  }
  const auto now = std::chrono::steady_clock::now();
  for (const auto& entry : bans_->list(now)) {
    std::string enforcement(kernel_bans_ ? kernel_bans_->enforcement_of(entry.ip) : "userspace");
    result.bans.push_back({entry.ip, millis_until(entry.until, now), std::move(enforcement)});
  }
  result.success = true;
  result.enforcement = core::ban::enforcement_name(
      kernel_bans_ ? kernel_bans_->enforcement() : core::ban::Enforcement::UserSpace);
  result.message = std::to_string(result.bans.size()) + " active";
  return result;
}

admin::CallResult ControlPlane::update_wasm(std::string_view wasm_binary,
                                            const std::string& plugin_name) {
  const auto config = applier_.current();
  if (!wasm_ || config->wasm.plugins.empty()) return {false, "no wasm plugins are configured"};
  const std::string name = plugin_name.empty() ? config->wasm.plugins.front().name : plugin_name;
  std::lock_guard lock(push_mutex_);
  auto previous = wasm_->push(name, std::string(wasm_binary));
  if (!previous) return {false, previous.error()};
  const auto applied = applier_.apply(config, "wasm push to plugin '" + name + "'");
  if (!applied.success) {
    wasm_->restore(std::move(*previous));
    std::string message =
        "wasm push to plugin '" + name + "' refused; the running module keeps serving:";
    for (const auto& e : applied.errors) message += "\n  " + e;
    if (applied.errors.empty()) message += " " + applied.message;
    return {false, std::move(message)};
  }
  return {true, "wasm plugin '" + name + "' runs the pushed module (" +
                    std::to_string(wasm_binary.size()) + " bytes) from config generation " +
                    std::to_string(applied.config_generation)};
}

std::string ControlPlane::render_metrics() {
  std::vector<const proxy::WorkerMetrics*> shards;
  for (const auto& worker : workers_) shards.push_back(&worker->metrics());
  admin::ProcessMetrics process;
  process.version = kVersion;
  process.reloads_success = applier_.applied();
  process.reloads_failure = applier_.refused();
  process.bans_active = bans_ ? bans_->active() : 0;
  if (kernel_bans_) {
    process.xdp_dropped_packets = kernel_bans_->dropped_packets();
    process.ban_enforcement = kernel_bans_->enforcement();
  }
  process.tracing_spans_dropped = spans_ ? spans_->dropped() : 0;
  for (size_t i = 0; i < process.contained_failures.size(); ++i) {
    process.contained_failures[i] =
        ports::ContainedFailures::count(static_cast<ports::TaskKind>(i));
  }
  if (wasm_) {
    process.wasm_calls = wasm_->calls();
    process.wasm_metrics = wasm_->plugin_metrics();
  }
  if (kubernetes_) {
    const auto& watch = kubernetes_->watcher().counters();
    admin::KubernetesMetrics k;
    for (size_t i = 0; i < k.watch_events.size(); ++i) k.watch_events[i] = watch.events[i].load();
    k.relists = watch.relists.load();
    k.watch_failures = watch.failures.load();
    k.watch_connected = watch.connected.load();
    k.synced = watch.synced.load();
    for (size_t i = 0; i < k.rejected.size(); ++i) {
      k.rejected[i] = kubernetes_->status().rejected(static_cast<core::k8s::Reason>(i));
    }
    k.status_write_failures = kubernetes_->status().write_failures();
    process.kubernetes = k;
  }
  const auto runtime = holder_.load();
  return admin::render_metrics(shards, runtime.get(), process, std::chrono::steady_clock::now());
}

}  // namespace vx::app
