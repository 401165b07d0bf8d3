#include "app/vortex/wasm_plugins.h"

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "adapters/wasm/vm/v8_loader/v8_loader.h"
#include "adapters/wasm/vm/wabt/wabt_engine.h"
#include "adapters/wasm/wasm_filter.h"
#include "app/vortex/worker.h"

namespace vx::app {

namespace wasm = adapters::wasm;
using core::config::WasmPlugin;

namespace {

bool same_settings(const WasmPlugin& a, const WasmPlugin& b) {
  return a.abi == b.abi && a.config == b.config && a.fail_open == b.fail_open &&
         a.max_call == b.max_call;
}

std::string who(const WasmPlugin& p) {
  return "wasm plugin '" + p.name + "'";
}

}  // namespace

WasmPlugins::WasmPlugins(const std::vector<std::unique_ptr<Worker>>& workers) : workers_(workers) {
  for (const auto& worker : workers_) {
    callers_.push_back(
        std::make_unique<UpstreamHttpCaller>(worker->context(), worker->io().get_executor()));
  }
}

WasmPlugins::~WasmPlugins() = default;

wasm::PluginEnvironment WasmPlugins::environment(unsigned index) {
  Worker& worker = *workers_[index];
  return {worker.io().get_executor(), shared_, callers_[index].get(),
          [&worker, closed = closed_](std::function<void()> task) {
            if (closed->load(std::memory_order_acquire)) {
              task();
            } else {
              worker.post(std::move(task));
            }
          }};
}

std::shared_ptr<wasm::CallCounters> WasmPlugins::counters(const std::string& name) {
  auto& c = counters_[name];
  if (!c) c = std::make_shared<wasm::CallCounters>(static_cast<unsigned>(workers_.size()));
  return c;
}

namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::optional<size_t> hash_of(const std::optional<std::string>& contents) {
  if (!contents) return std::nullopt;
  return std::hash<std::string>{}(*contents);
}

// validate() has refused any other name. Called only when there is a plugin to compile, so a
// config without one never loads V8.
core::Result<wasm::WasmEngine*, std::string> engine_named(std::string_view runtime) {
  if (runtime == "wabt") return &wasm::wabt_engine();
  return wasm::load_v8_engine();
}

// Compiles `bytes` for `settings` on `engine`; with `start`, also starts it once on this thread
// with nothing the workers own, so a module that fails vm_start or configure is refused before any
// worker sees it.
core::Result<std::shared_ptr<const wasm::PluginModule>, std::string> compile_plugin(
    const WasmPlugin& settings, const std::string& bytes, wasm::WasmEngine& engine, bool start) {
  auto module = wasm::PluginModule::create(settings, bytes, engine);
  if (!module) {
    std::string joined;
    for (const auto& e : module.error()) joined += (joined.empty() ? "" : "; ") + e;
    return core::unexpected(std::move(joined));
  }
  if (start) {
    boost::asio::io_context io;
    wasm::SharedState scratch;
    auto started = wasm::PluginInstance::start(*module, {io.get_executor(), scratch, nullptr, {}});
    if (!started) return core::unexpected(who(settings) + ": cannot start: " + started.error());
  }
  return std::move(*module);
}

}  // namespace

std::vector<std::pair<const WasmPlugin*, std::string>> WasmPlugins::check(
    const core::config::Config& config) {
  std::vector<std::pair<const WasmPlugin*, std::string>> problems;
  for (const WasmPlugin& settings : config.wasm.plugins) {
    auto bytes = read_file(settings.file);
    if (!bytes) {
      problems.emplace_back(&settings, who(settings) + ": cannot read " + settings.file);
      continue;
    }
    auto engine = engine_named(config.wasm.runtime);
    if (!engine) {
      problems.emplace_back(&settings, who(settings) + ": " + engine.error());
      continue;
    }
    auto compiled = compile_plugin(settings, *bytes, **engine, true);
    if (!compiled) problems.emplace_back(&settings, std::move(compiled.error()));
  }
  return problems;
}

core::Result<std::string, std::string> WasmPlugins::module_bytes(const WasmPlugin& settings) {
  auto file = read_file(settings.file);
  if (const auto pushed = pushed_.find(settings.name); pushed != pushed_.end()) {
    if (pushed->second.file == settings.file && pushed->second.file_hash == hash_of(file)) {
      return pushed->second.bytes;
    }
    pushed_.erase(pushed);  // the file (or which file) changed since: it is newer
  }
  if (!file) return core::unexpected(who(settings) + ": cannot read " + settings.file);
  return std::move(*file);
}

core::Result<WasmPlugins::Plugins, std::vector<std::string>> WasmPlugins::compile(
    const core::config::Config& config) {
  std::lock_guard lock(mutex_);
  Plugins next;
  std::vector<std::string> errors;
  for (const WasmPlugin& settings : config.wasm.plugins) {
    auto bytes = module_bytes(settings);
    if (!bytes) {
      errors.push_back(bytes.error());
      continue;
    }
    auto loaded = engine_named(config.wasm.runtime);
    if (!loaded) {
      errors.push_back(who(settings) + ": " + loaded.error());
      continue;
    }
    wasm::WasmEngine& engine = **loaded;
    const auto running = running_.find(settings.name);
    if (running != running_.end() && running->second.bytes == *bytes &&
        &running->second.runtime->module().engine() == &engine &&
        same_settings(running->second.settings, settings)) {
      next.emplace(settings.name, running->second);  // unchanged: keeps running as it is
      continue;
    }
    auto module = compile_plugin(settings, *bytes, engine, false);
    if (!module) {
      errors.push_back(std::move(module.error()));
      continue;
    }
    auto runtime = std::make_shared<wasm::PluginRuntime>(
        *module, static_cast<unsigned>(workers_.size()), counters(settings.name));
    next.emplace(settings.name, Running{std::move(*bytes), settings, std::move(runtime)});
  }
  if (!errors.empty()) return core::unexpected(std::move(errors));
  return next;
}

ConfigApplier::FilterSetup WasmPlugins::setup(std::shared_ptr<Plugins> plugins) {
  ConfigApplier::FilterSetup setup;
  setup.sources.plugin =
      [plugins](std::string_view name) -> std::shared_ptr<const ports::HttpFilter> {
    const auto it = plugins->find(name);
    if (it == plugins->end()) return nullptr;
    return std::make_shared<wasm::WasmFilter>(it->second.runtime);
  };
  setup.commit = [this, plugins] {
    std::lock_guard lock(mutex_);
    running_ = *plugins;
  };
  return setup;
}

core::Result<ConfigApplier::FilterSetup, std::vector<std::string>> WasmPlugins::prepare_first(
    const core::config::Config& config) {
  auto compiled = compile(config);
  if (!compiled) return core::unexpected(std::move(compiled.error()));
  auto plugins = std::make_shared<Plugins>(std::move(*compiled));
  for (unsigned i = 0; i < workers_.size(); ++i) {
    workers_[i]->before_accepting([plugins, env = environment(i), i] {
      for (auto& [name, plugin] : *plugins) {
        // check() started it once already; were a worker's start to fail all the same, the
        // plugin's first request there tries again (PluginRuntime::instance).
        auto started = plugin.runtime->start_on_worker(i, env);
        if (!started) {
          std::fprintf(stderr, "vortex: wasm plugin %s: cannot start on worker %u: %s\n",
                       name.c_str(), i, started.error().c_str());
        }
      }
    });
  }
  return setup(std::move(plugins));
}

core::Result<ConfigApplier::FilterSetup, std::vector<std::string>> WasmPlugins::prepare(
    const core::config::Config& config) {
  auto compiled = compile(config);
  if (!compiled) return core::unexpected(std::move(compiled.error()));
  auto plugins = std::make_shared<Plugins>(std::move(*compiled));
  std::vector<std::shared_ptr<wasm::PluginRuntime>> fresh;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, plugin] : *plugins) {
      const auto running = running_.find(name);
      if (running == running_.end() || running->second.runtime != plugin.runtime) {
        fresh.push_back(plugin.runtime);
      }
    }
  }
  // New or changed plugins start on every worker before the snapshot that uses them serves.
  std::vector<std::string> errors;
  for (unsigned i = 0; i < workers_.size() && errors.empty(); ++i) {
    auto failures = std::make_shared<std::vector<std::string>>();
    const bool ran = workers_[i]->run_on_thread([&fresh, failures, env = environment(i), i] {
      for (const auto& runtime : fresh) {
        auto started = runtime->start_on_worker(i, env);
        if (!started) {
          failures->push_back("wasm plugin '" + runtime->module().name() +
                              "': cannot start: " + started.error());
        }
      }
    });
    if (!ran) errors.push_back("worker " + std::to_string(i) + " did not answer");
    errors.insert(errors.end(), failures->begin(), failures->end());
  }
  if (!errors.empty()) return core::unexpected(std::move(errors));
  return setup(std::move(plugins));
}

core::Result<WasmPlugins::Pushes, std::string> WasmPlugins::push(std::string_view name,
                                                                 std::string bytes) {
  std::lock_guard lock(mutex_);
  const auto running = running_.find(name);
  if (running == running_.end()) {
    return core::unexpected("no wasm plugin named '" + std::string(name) + "' is running");
  }
  Pushes previous = pushed_;
  const std::string& file = running->second.settings.file;
  pushed_.insert_or_assign(std::string(name),
                           Push{std::move(bytes), file, hash_of(read_file(file))});
  return previous;
}

void WasmPlugins::restore(Pushes previous) {
  std::lock_guard lock(mutex_);
  pushed_ = std::move(previous);
}

void WasmPlugins::close() {
  closed_->store(true, std::memory_order_release);
  Plugins running;
  {
    std::lock_guard lock(mutex_);
    running.swap(running_);
  }
}

std::vector<adapters::admin::WasmPluginCalls> WasmPlugins::calls() const {
  std::lock_guard lock(mutex_);
  std::vector<adapters::admin::WasmPluginCalls> out;
  for (const auto& [name, counters] : counters_) out.push_back({name, counters->totals()});
  return out;
}

std::vector<adapters::admin::WasmPluginMetric> WasmPlugins::plugin_metrics() const {
  std::vector<adapters::admin::WasmPluginMetric> out;
  for (auto& m : shared_.metrics()) {
    adapters::admin::WasmPluginMetric metric;
    metric.plugin = std::move(m.plugin);
    metric.name = std::move(m.name);
    metric.type =
        m.type == wasm::MetricType::Counter ? adapters::admin::WasmPluginMetric::Type::Counter
        : m.type == wasm::MetricType::Gauge ? adapters::admin::WasmPluginMetric::Type::Gauge
                                            : adapters::admin::WasmPluginMetric::Type::Histogram;
    metric.value = m.value;
    metric.count = m.count;
    out.push_back(std::move(metric));
  }
  return out;
}

}  // namespace vx::app
