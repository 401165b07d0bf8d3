#include "app/vortex/admin_control_plane.h"

#include <cstdio>
#include <map>

#include "adapters/admin/metrics_exposition.h"
#include "adapters/config/re2_regex_compiler.h"
#include "adapters/config/yaml_config_loader.h"
#include "adapters/upstream/client_tls_context.h"
#include "app/version.h"
#include "app/vortex/worker.h"
#include "core/config/socket_address.h"
#include "ports/contained_failures.h"

namespace vx::app {

namespace admin = adapters::admin;
using core::config::Config;

namespace {

// A listener that a reload keeps open; anything else about it changed means close + reopen.
// (Certificates are not part of it: the TLS step swaps them under open listeners.)
bool same_listener(const core::config::Listener& a, const core::config::Listener& b) {
  return a.name == b.name && a.address.text == b.address.text &&
         a.tls.has_value() == b.tls.has_value() && a.http3 == b.http3;
}

bool has_same(const std::vector<core::config::Listener>& all, const core::config::Listener& l) {
  for (const auto& other : all) {
    if (same_listener(other, l)) return true;
  }
  return false;
}

// Settings read once at start: a reload that changes them says they wait for a restart.
std::vector<std::string> restart_only_changes(const Config& now, const Config& next) {
  std::vector<std::string> keys;
  if (now.workers != next.workers) keys.push_back("workers");
  if (now.cpu_pinning != next.cpu_pinning) keys.push_back("cpu_pinning");
  if (now.admin.socket != next.admin.socket) keys.push_back("admin.socket");
  if (now.metrics.address != next.metrics.address) keys.push_back("metrics.address");
  if (now.access_log.path != next.access_log.path) keys.push_back("access_log.path");
  if (now.rate_limits.store != next.rate_limits.store ||
      now.rate_limits.redis.url != next.rate_limits.redis.url) {
    keys.push_back("rate_limits.store");
  }
  if (now.limits.max_connections != next.limits.max_connections) {
    keys.push_back("limits.max_connections");
  }
  return keys;
}

uint64_t millis_until(core::TimePoint until, core::TimePoint now) {
  if (until <= now) return 0;
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count());
}

}  // namespace

ControlPlane::ControlPlane(std::shared_ptr<const Config> config, proxy::RuntimeHolder& holder,
                           const std::vector<std::unique_ptr<Worker>>& workers,
                           const adapters::net::ConnectionBudget& budget)
    : holder_(holder), workers_(workers), budget_(budget), config_(std::move(config)) {}

ControlPlane::~ControlPlane() {
  stop_servers();
}

void ControlPlane::add_reload_step(ReloadStep step) {
  steps_.push_back(std::move(step));
}

std::shared_ptr<const Config> ControlPlane::current_config() const {
  std::lock_guard lock(config_mutex_);
  return config_;
}

core::Result<void, std::string> ControlPlane::start_servers() {
  const auto config = current_config();
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

admin::ReloadResult ControlPlane::refuse(const std::string& path, std::vector<std::string> errors) {
  reloads_failed_.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "vortex: reload of %s refused; still serving the previous config:\n",
               path.c_str());
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  std::fflush(stderr);
  admin::ReloadResult result;
  result.success = false;
  result.message = "reload of " + path + " refused (" + std::to_string(errors.size()) +
                   (errors.size() == 1 ? " error" : " errors") +
                   "); still serving the previous config";
  result.errors = std::move(errors);
  result.config_generation = generation_.load(std::memory_order_relaxed);
  return result;
}

admin::ReloadResult ControlPlane::reload(const std::string& requested_path) {
  std::lock_guard lock(reload_mutex_);
  const auto current = current_config();
  const std::string path = requested_path.empty() ? current->file : requested_path;
  if (!ready()) return refuse(path, {"vortex is starting or stopping; try again"});

  // 1. Parse and validate completely, on this (control) thread.
  auto loaded = adapters::config::load_config_file(path);
  if (!loaded) {
    std::vector<std::string> errors;
    for (const auto& d : loaded.error()) errors.push_back(d.to_string());
    return refuse(path, std::move(errors));
  }
  std::shared_ptr<const Config> next = std::move(*loaded);

  // 2. Build the snapshot; endpoints that stay keep their state (EWMA, breaker, in flight).
  const auto running = holder_.load();
  adapters::config::Re2RegexCompiler regex;
  auto runtime = proxy::Runtime::build(next, regex, std::chrono::steady_clock::now(), running.get(),
                                       &adapters::upstream::ClientTlsContext::create);
  if (!runtime) return refuse(path, std::move(runtime.error()));

  // 3. Every subsystem checks its part (TLS certificates ...); nothing is applied yet.
  std::vector<Commit> commits;
  std::vector<std::string> errors;
  for (const auto& step : steps_) {
    auto checked = step(*next);
    if (checked) {
      commits.push_back(std::move(*checked));
    } else {
      errors.insert(errors.end(), checked.error().begin(), checked.error().end());
    }
  }
  if (!errors.empty()) return refuse(path, std::move(errors));

  // 4. Bind the new listeners on every worker (not accepting yet); a port in use refuses.
  std::vector<std::string> added, removed;
  for (const auto& l : next->listeners) {
    if (!has_same(current->listeners, l)) added.push_back(l.name);
  }
  for (const auto& l : current->listeners) {
    if (!has_same(next->listeners, l)) removed.push_back(l.name);
  }
  for (const auto& worker : workers_) {
    auto opened = worker->prepare_listeners(next, added);
    errors.insert(errors.end(), opened.begin(), opened.end());
  }
  if (!errors.empty()) {
    for (const auto& worker : workers_) worker->abort_listeners();
    return refuse(path, std::move(errors));
  }

  // 5. Swap: new streams take the new snapshot, streams in flight finish on theirs.
  holder_.publish(std::move(*runtime));
  for (auto& commit : commits) commit();
  for (const auto& worker : workers_) worker->commit_listeners(next, removed);
  {
    std::lock_guard config_lock(config_mutex_);
    config_ = next;
  }
  const uint64_t generation = generation_.fetch_add(1, std::memory_order_relaxed) + 1;
  reloads_succeeded_.fetch_add(1, std::memory_order_relaxed);

  for (const auto& name : removed) {
    std::fprintf(stderr, "vortex: closed listener %s\n", name.c_str());
  }
  for (const auto& l : next->listeners) {
    for (const auto& name : added) {
      if (name == l.name) {
        std::fprintf(stderr, "vortex: listening on %s (%s, %s) after reload\n",
                     l.address.text.c_str(), l.name.c_str(), l.tls ? "https" : "http");
      }
    }
  }
  admin::ReloadResult result;
  result.success = true;
  result.message = "reloaded " + path + " (generation " + std::to_string(generation) + ", " +
                   std::to_string(next->routes.size()) + " routes, " +
                   std::to_string(next->clusters.size()) + " clusters, " +
                   std::to_string(added.size()) + " listeners opened, " +
                   std::to_string(removed.size()) + " closed)";
  const auto restart = restart_only_changes(*current, *next);
  if (!restart.empty()) {
    result.message += "; needs a restart to change:";
    for (const auto& key : restart) result.message += " " + key;
  }
  result.config_generation = generation;
  std::fprintf(stderr, "vortex: %s\n", result.message.c_str());
  std::fflush(stderr);
  return result;
}

admin::Stats ControlPlane::stats() {
  admin::Stats stats;
  const auto config = current_config();
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
  stats.config_generation = generation_.load(std::memory_order_relaxed);
  stats.workers = static_cast<uint32_t>(workers_.size());
  stats.listeners = static_cast<uint32_t>(config->listeners.size());
  stats.reloads_succeeded = reloads_succeeded_.load(std::memory_order_relaxed);
  stats.reloads_failed = reloads_failed_.load(std::memory_order_relaxed);
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
    for (const core::lb::EndpointState* e : cluster.balancer->endpoints()) {
      admin::BackendInfo info;
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
    result.bans.push_back({entry.ip, millis_until(entry.until, now)});
  }
  result.success = true;
  result.message = std::to_string(result.bans.size()) + " active";
  return result;
}

admin::CallResult ControlPlane::update_wasm(std::string_view, const std::string&) {
  // TODO(wasm): load, check and swap the module once the Wasm host lands (issue 7).
  return {false, "wasm plugins not available yet"};
}

std::string ControlPlane::render_metrics() {
  std::vector<const proxy::WorkerMetrics*> shards;
  for (const auto& worker : workers_) shards.push_back(&worker->metrics());
  admin::ProcessMetrics process;
  process.version = kVersion;
  process.reloads_success = reloads_succeeded_.load(std::memory_order_relaxed);
  process.reloads_failure = reloads_failed_.load(std::memory_order_relaxed);
  process.bans_active = bans_ ? bans_->active() : 0;
  for (size_t i = 0; i < process.contained_failures.size(); ++i) {
    process.contained_failures[i] =
        ports::ContainedFailures::count(static_cast<ports::TaskKind>(i));
  }
  const auto runtime = holder_.load();
  return admin::render_metrics(shards, runtime.get(), process, std::chrono::steady_clock::now());
}

}  // namespace vx::app
