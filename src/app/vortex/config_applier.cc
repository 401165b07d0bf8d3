#include "app/vortex/config_applier.h"

#include <chrono>
#include <cstdio>

#include "adapters/config/re2_regex_compiler.h"
#include "adapters/upstream/client_tls_context.h"
#include "app/vortex/worker.h"
#include "core/config/validate.h"

namespace vx::app {

namespace admin = adapters::admin;
using core::config::Config;

namespace {

constexpr const char* kNotReady = "vortex is starting or stopping; try again";

// A listener that an apply keeps open; anything else about it changed means close + reopen.
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

// Settings read once at start: an apply that changes them says they wait for a restart.
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
  if (now.kubernetes.enabled != next.kubernetes.enabled ||
      now.kubernetes.namespace_ != next.kubernetes.namespace_ ||
      now.kubernetes.kubeconfig != next.kubernetes.kubeconfig) {
    keys.push_back("kubernetes");
  }
  return keys;
}

}  // namespace

ConfigApplier::ConfigApplier(std::shared_ptr<const Config> running, proxy::RuntimeHolder& holder,
                             const std::vector<std::unique_ptr<Worker>>& workers,
                             FilterStep filters)
    : holder_(holder),
      workers_(workers),
      filters_(std::move(filters)),
      config_(running),
      file_config_(std::move(running)) {}

void ConfigApplier::add_reload_step(ReloadStep step) {
  steps_.push_back(std::move(step));
}

std::shared_ptr<const Config> ConfigApplier::current() const {
  std::lock_guard lock(config_mutex_);
  return config_;
}

admin::ReloadResult ConfigApplier::refuse(std::string_view source,
                                          std::vector<std::string> errors) {
  refused_.fetch_add(1, std::memory_order_relaxed);
  const std::string name(source);
  std::fprintf(stderr, "vortex: reload of %s refused; still serving the previous config:\n",
               name.c_str());
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  std::fflush(stderr);
  admin::ReloadResult result;
  result.success = false;
  result.message = "reload of " + name + " refused (" + std::to_string(errors.size()) +
                   (errors.size() == 1 ? " error" : " errors") +
                   "); still serving the previous config";
  result.errors = std::move(errors);
  result.config_generation = generation_.load(std::memory_order_relaxed);
  return result;
}

admin::ReloadResult ConfigApplier::apply(Loaded loaded, std::string_view source) {
  std::lock_guard lock(apply_mutex_);
  // 1. Not ready first: "starting or stopping" says more than a file's own errors would.
  if (!ready()) return refuse(source, {kNotReady});
  if (!loaded) return refuse(source, std::move(loaded.error()));
  return apply_locked(std::move(*loaded), overlay_, source);
}

admin::ReloadResult ConfigApplier::apply_overlay(Overlay overlay, std::string_view source) {
  std::lock_guard lock(apply_mutex_);
  if (!ready()) return refuse(source, {kNotReady});
  auto result = apply_locked(file_config_, overlay, source);
  if (result.success) overlay_ = std::move(overlay);
  return result;
}

admin::ReloadResult ConfigApplier::apply_locked(std::shared_ptr<const Config> file,
                                                const Overlay& overlay, std::string_view source) {
  const std::shared_ptr<const Config> next = overlay ? overlay(file) : file;
  const auto current = this->current();

  // 2. The checks of `vortex check`. A file source ran them already (the loader validates):
  //    then this finds nothing, at the cost of compiling the route patterns once more.
  adapters::config::Re2RegexCompiler regex;
  if (auto problems = core::config::validate(*next, regex); !problems.empty()) {
    std::vector<std::string> errors;
    for (const auto& d : problems) errors.push_back(d.to_string());
    return refuse(source, std::move(errors));
  }

  // 3. Its filters, then the snapshot; endpoints that stay keep their state (EWMA, breaker,
  //    requests in flight).
  auto filters = filters_ ? filters_(*next) : FilterSetup{};
  if (!filters) return refuse(source, std::move(filters.error()));
  const auto running = holder_.load();
  auto runtime =
      proxy::Runtime::build(next, regex, std::chrono::steady_clock::now(), running.get(),
                            &adapters::upstream::ClientTlsContext::create, filters->sources);
  if (!runtime) return refuse(source, std::move(runtime.error()));

  // 4. Every subsystem checks its part (TLS certificates ...); nothing is applied yet.
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
  if (!errors.empty()) return refuse(source, std::move(errors));

  // 5. Bind the new listeners on every worker (not accepting yet); a port in use refuses.
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
    return refuse(source, std::move(errors));
  }

  // Swap: new streams take the new snapshot, streams in flight finish on theirs.
  holder_.publish(std::move(*runtime));
  for (auto& commit : commits) commit();
  if (filters->commit) filters->commit();
  for (const auto& worker : workers_) worker->commit_listeners(next, removed);
  {
    std::lock_guard config_lock(config_mutex_);
    config_ = next;
  }
  file_config_ = std::move(file);
  const uint64_t generation = generation_.fetch_add(1, std::memory_order_relaxed) + 1;
  applied_.fetch_add(1, std::memory_order_relaxed);

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
  result.message = "reloaded " + std::string(source) + " (generation " +
                   std::to_string(generation) + ", " + std::to_string(next->routes.size()) +
                   " routes, " + std::to_string(next->clusters.size()) + " clusters, " +
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

}  // namespace vx::app
