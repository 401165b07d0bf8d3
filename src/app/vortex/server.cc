#include "app/vortex/server.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>
#include <vector>

#include <cstdlib>

#include "adapters/config/re2_regex_compiler.h"
#include "adapters/net/connection_budget.h"
#include "adapters/net/tls_contexts.h"
#include "adapters/telemetry/otlp_http_exporter.h"
#include "adapters/upstream/client_tls_context.h"
#include "adapters/upstream/health_checker.h"
#include "app/version.h"
#include "app/vortex/admin_control_plane.h"
#include "app/vortex/bench_filters.h"
#include "app/vortex/config_applier.h"
#include "app/vortex/kernel_bans.h"
#include "app/vortex/kubernetes_routes.h"
#include "app/vortex/rate_limiting.h"
#include "app/vortex/wasm_plugins.h"
#include "app/vortex/worker.h"
#include "proxy/runtime.h"

namespace vx::app {

namespace {

unsigned worker_count(const core::config::Config& config) {
  if (config.workers > 0) return config.workers;
  const unsigned cpus = std::thread::hardware_concurrency();
  return cpus == 0 ? 1 : cpus;
}

// Builds a Runtime for `config`, printing why when it cannot.
std::shared_ptr<const proxy::Runtime> build_runtime(
    std::shared_ptr<const core::config::Config> config, const proxy::FilterSources& filters) {
  adapters::config::Re2RegexCompiler regex;
  auto runtime =
      proxy::Runtime::build(std::move(config), regex, std::chrono::steady_clock::now(), nullptr,
                            &adapters::upstream::ClientTlsContext::create, filters);
  if (!runtime) {
    for (const auto& e : runtime.error()) std::fprintf(stderr, "%s\n", e.c_str());
    return nullptr;
  }
  return *runtime;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

}  // namespace

int run_server(std::shared_ptr<const core::config::Config> config) {
  // Signals are taken synchronously by this thread only; workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  adapters::net::TlsContextsHolder tls_holder;
  {
    auto tls = adapters::net::TlsContexts::build(*config);
    if (!tls) {
      for (const auto& d : tls.error()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
      return 1;
    }
    tls_holder.publish(std::move(*tls));
  }

  // Declared before the workers, which read it, and the Wasm plugins, which their snapshots
  // run.
  proxy::RuntimeHolder holder;
  adapters::net::ConnectionBudget budget;
  budget.max = config->limits.max_connections;
  std::vector<std::unique_ptr<Worker>> workers;
  const unsigned count = worker_count(*config);
  for (unsigned i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(i, holder, config, budget);
    worker->context().workers = count;
    worker->attach_tls(tls_holder);
    auto opened = worker->open();
    if (!opened) {
      for (const auto& e : opened.error()) std::fprintf(stderr, "vortex: %s\n", e.c_str());
      return 1;
    }
    workers.push_back(std::move(worker));
  }

  // Spans go to the OTLP exporter (tracing; idle, no queue and no thread, until a config sets
  // otlp_endpoint). Declared before the workers' first stream and stopped after their last.
  adapters::telemetry::OtlpHttpExporter spans(kVersion, host_name());
  spans.configure(config->tracing);
  for (auto& w : workers) w->context().spans = &spans;

  // The filters a config's chains take besides the built-in ones: its Wasm plugins (compiled
  // and started here once, so a plugin that cannot start refuses the start), and the
  // benchmark's no-op filters.
  const char* bench_spec = std::getenv("VORTEX_BENCH_FILTERS");
  auto bench = bench_filters(bench_spec ? bench_spec : "");
  if (!bench) {
    std::fprintf(stderr, "vortex: %s\n", bench.error().c_str());
    return 1;
  }
  if (!bench->on_cluster_routes.empty()) {
    std::fprintf(stderr, "vortex: VORTEX_BENCH_FILTERS=%s: %zu no-op filters on every route\n",
                 bench_spec, bench->on_cluster_routes.size());
  }
  WasmPlugins wasm(workers);
  auto with_bench = [bench = *bench](auto setup) -> decltype(setup) {
    if (setup) setup->sources.on_cluster_routes = bench.on_cluster_routes;
    return setup;
  };
  auto first_filters = with_bench(wasm.prepare_first(*config));
  if (!first_filters) {
    for (const auto& e : first_filters.error()) std::fprintf(stderr, "vortex: %s\n", e.c_str());
    return 1;
  }
  auto runtime = build_runtime(config, first_filters->sources);
  if (!runtime) return 1;
  holder.publish(std::move(runtime));
  if (first_filters->commit) first_filters->commit();

  auto rate_limiting = RateLimiting::create(*config, workers);
  if (!rate_limiting) {
    std::fprintf(stderr, "vortex: %s\n", rate_limiting.error().c_str());
    return 1;
  }
  // Every new config, whichever its source, goes through the applier; the control plane
  // (admin socket, metrics endpoint, SIGHUP) feeds it the config file.
  ConfigApplier applier(config, holder, workers,
                        [&wasm, with_bench](const core::config::Config& next) {
                          return with_bench(wasm.prepare(next));
                        });
  proxy::BanRegistry& bans = (*rate_limiting)->bans();
  // Before the workers start, so the first ban already reaches the kernel.
  KernelBans kernel_bans(bans);
  kernel_bans.configure(config->bans);
  // New certificates apply to new handshakes (issue 4); a bad one refuses the whole reload.
  applier.add_reload_step([&tls_holder](const core::config::Config& next)
                              -> core::Result<ConfigApplier::Commit, std::vector<std::string>> {
    auto tls = adapters::net::TlsContexts::build(next);
    if (!tls) {
      std::vector<std::string> errors;
      for (const auto& d : tls.error()) errors.push_back(d.to_string());
      return core::unexpected(std::move(errors));
    }
    return ConfigApplier::Commit([&tls_holder, contexts = *tls] { tls_holder.publish(contexts); });
  });
  applier.add_reload_step([&bans](const core::config::Config& next)
                              -> core::Result<ConfigApplier::Commit, std::vector<std::string>> {
    const auto settings = core::ban::BanSettings::from_config(next.bans);
    return ConfigApplier::Commit([&bans, settings] { bans.update_settings(settings); });
  });
  // Moving bans.xdp to another interface or mode never refuses a reload: an attach that fails
  // logs why and leaves the bans to user space (KernelBans::configure).
  applier.add_reload_step([&kernel_bans](const core::config::Config& next)
                              -> core::Result<ConfigApplier::Commit, std::vector<std::string>> {
    return ConfigApplier::Commit([&kernel_bans, xdp = next.bans] { kernel_bans.configure(xdp); });
  });
  applier.add_reload_step([&spans](const core::config::Config& next)
                              -> core::Result<ConfigApplier::Commit, std::vector<std::string>> {
    return ConfigApplier::Commit([&spans, tracing = next.tracing] { spans.configure(tracing); });
  });
  // The VortexRoute watcher (SPEC.md §7): its reload step is registered before the first apply;
  // it starts once the applier is ready. kubernetes.* waits for a restart.
  std::unique_ptr<KubernetesRoutes> kubernetes;
  if (config->kubernetes.enabled) {
    kubernetes = std::make_unique<KubernetesRoutes>(config->kubernetes, applier);
  }
  ControlPlane control(applier, holder, workers, budget);
  control.attach_kubernetes(kubernetes.get());
  control.attach_bans(&bans);
  control.attach_kernel_bans(&kernel_bans);
  control.attach_tracing(&spans);
  control.attach_wasm(&wasm);
  if (auto serving = control.start_servers(); !serving) {
    std::fprintf(stderr, "vortex: %s\n", serving.error().c_str());
    return 1;
  }
  (*rate_limiting)->start();
  for (auto& w : workers) w->start(config->cpu_pinning);
  adapters::upstream::HealthChecker health_checker(holder);  // follows reloads through holder
  health_checker.start();
  // Registered before the applier is ready (no reload runs yet); reloads are refused again
  // before the checker stops.
  applier.add_reload_step([&health_checker](const core::config::Config&)
                              -> core::Result<ConfigApplier::Commit, std::vector<std::string>> {
    return ConfigApplier::Commit([&health_checker] { health_checker.runtime_published(); });
  });
  for (const auto& l : config->listeners) {
    std::fprintf(stderr, "vortex: listening on %s (%s, %s) with %u workers\n",
                 l.address.text.c_str(), l.name.c_str(), l.tls ? "https" : "http", count);
  }
  std::fflush(stderr);
  applier.set_ready(true);
  if (kubernetes) kubernetes->start();

  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      control.reload(config->file);  // SIGHUP: the file Vortex was started with
      continue;
    }
    std::fprintf(stderr, "vortex: draining (signal %d)\n", signal_number);
    break;
  }
  // Before the applier refuses: the watcher may be applying a view.
  if (kubernetes) kubernetes->stop();
  applier.set_ready(false);
  control.stop_servers();
  health_checker.stop();
  for (auto& w : workers) w->drain();
  for (auto& w : workers) w->join();
  // Every Wasm instance goes before the io_context of the worker it ran on.
  wasm.close();
  holder.publish(nullptr);
  // Every stream has ended: what is queued goes to the collector, within a bounded time.
  spans.stop(std::chrono::seconds(5));
  (*rate_limiting)->stop();
  std::fprintf(stderr, "vortex: stopped\n");
  return 0;
}

}  // namespace vx::app
