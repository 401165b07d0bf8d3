// ConfigApplier: makes a new Config the running one, whichever source it came from (the config
// file on admin ReloadConfig and SIGHUP; the Kubernetes watcher through an overlay). Every source
// gets the same checks, the same endpoint-state carry-over and the same refusal messages.
// Thread-safe: one apply at a time, from any thread; the getters read atomics or take a short lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/admin/admin_backend.h"
#include "core/config/config.h"
#include "core/result.h"
#include "proxy/filter_sources.h"
#include "proxy/runtime_holder.h"

namespace vx::app {

class Worker;

class ConfigApplier {
 public:
  // A subsystem's part of an apply, run after the new config and runtime are built and before
  // anything is swapped: checks `config` and returns the action that applies it (run only when
  // every step and the listeners agreed), or every message that refuses it.
  using Commit = std::function<void()>;
  using ReloadStep = std::function<core::Result<Commit, std::vector<std::string>>(
      const core::config::Config& config)>;

  // What a config's filter chains take besides the built-in filters (its Wasm plugins, the
  // benchmark filters), prepared for each apply before its Runtime is built: refusing refuses
  // the apply; `commit` runs once the apply succeeded.
  struct FilterSetup {
    proxy::FilterSources sources;
    Commit commit;
  };
  using FilterStep = std::function<core::Result<FilterSetup, std::vector<std::string>>(
      const core::config::Config&)>;

  // `running`: the config the workers were started with (generation 1). `holder` already
  // holds its Runtime. Both `holder` and `workers` must outlive the applier.
  ConfigApplier(std::shared_ptr<const core::config::Config> running, proxy::RuntimeHolder& holder,
                const std::vector<std::unique_ptr<Worker>>& workers, FilterStep filters);

  // Main thread, before the first apply.
  void add_reload_step(ReloadStep step);

  // Every worker runs with its listeners open and none drains: applies are accepted from now
  // on (set_ready(true)) or no more (set_ready(false), before the drain). /readyz answers this.
  void set_ready(bool ready) { ready_.store(ready, std::memory_order_release); }
  bool ready() const { return ready_.load(std::memory_order_acquire); }

  // What a source produced: the Config, or every message that refuses it (for a file, the
  // loader's "FILE:LINE: message" lines). Converts from a std::shared_ptr<const Config>.
  using Loaded =
      core::Result<std::shared_ptr<const core::config::Config>, std::vector<std::string>>;

  // Makes `next` the running config, or refuses it whole and keeps serving the current one.
  // `source` names where it came from in every message (for a file: its path).
  // In order; the first stage that finds a problem refuses with every message it found:
  //  1. refused while not ready(); then a source that could not load refuses with its messages;
  //  2. the overlay in force laid over it (Kubernetes endpoints: a file reload keeps them), then
  //     validated as `vortex check` does (core::config::validate: names, references, ranges,
  //     patterns), so a source that built `next` itself cannot skip it;
  //  3. its filters prepared (FilterStep: the Wasm plugins compile and start on every worker),
  //     then a new proxy::Runtime built with the running one as `previous`: endpoints that
  //     stay keep EWMA, breaker, health and requests in flight; names resolve; TLS compiles;
  //  4. every reload step checks its part (listener certificates, bans ...);
  //  5. listeners added or changed are bound on every worker, not accepting yet (a port in use
  //     refuses; the ones bound are closed again).
  // Then the Runtime is published, the steps' commits run, new listeners start, removed ones
  // close (their connections drain), the generation moves on and the result says what opened
  // and closed and which changed settings wait for a restart. Every outcome is logged and
  // counted (vortex_config_reloads_total). Blocks while the workers bind; never throws.
  adapters::admin::ReloadResult apply(Loaded next, std::string_view source);

  // What another source lays over the file's config before every apply (the Kubernetes
  // endpoints): returns the config to apply, or `file` itself. Runs inside apply, under its
  // lock: it must not call back into the applier.
  using Overlay = std::function<std::shared_ptr<const core::config::Config>(
      const std::shared_ptr<const core::config::Config>& file)>;

  // Applies the running file config with `overlay` laid over it, exactly as apply() does; when
  // that succeeds `overlay` is the one every later apply (file reloads included) uses, else the
  // previous one stays. Thread-safe; blocks like apply().
  adapters::admin::ReloadResult apply_overlay(Overlay overlay, std::string_view source);

  // The config serving now.
  std::shared_ptr<const core::config::Config> current() const;
  // 1 at start, plus one per apply that succeeded.
  uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }
  uint64_t applied() const { return applied_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  adapters::admin::ReloadResult refuse(std::string_view source, std::vector<std::string> errors);
  // apply() once the lock is held and `file` loaded; `overlay` may be empty.
  adapters::admin::ReloadResult apply_locked(std::shared_ptr<const core::config::Config> file,
                                             const Overlay& overlay, std::string_view source);

  proxy::RuntimeHolder& holder_;
  const std::vector<std::unique_ptr<Worker>>& workers_;
  const FilterStep filters_;
  std::vector<ReloadStep> steps_;

  std::mutex apply_mutex_;           // one apply at a time
  mutable std::mutex config_mutex_;  // guards config_ (read by stats on other threads)
  std::shared_ptr<const core::config::Config> config_;
  // apply_mutex_: the file config as loaded (before the overlay) and the overlay now in force.
  std::shared_ptr<const core::config::Config> file_config_;
  Overlay overlay_;
  std::atomic<uint64_t> generation_{1};
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<bool> ready_{false};
};

}  // namespace vx::app
