#include "app/vortex/kubernetes_routes.h"

#include <set>

namespace vx::app {

namespace k8s = adapters::k8s;
using core::config::Config;

namespace {

k8s::RouteWatcher::LoadAccess access_loader(const core::config::Kubernetes& settings) {
  return [kubeconfig = settings.kubeconfig]() {
    return kubeconfig.empty() ? k8s::in_cluster_access() : k8s::kubeconfig_access(kubeconfig);
  };
}

}  // namespace

KubernetesRoutes::KubernetesRoutes(const core::config::Kubernetes& settings, ConfigApplier& applier)
    : namespace_(settings.namespace_),
      applier_(applier),
      status_(access_loader(settings), settings.namespace_),
      watcher_(access_loader(settings), settings.namespace_,
               [this](const View& view) { on_view(view); }) {
  // Runs for every apply that succeeds, whatever its source: a file reload that drops a
  // resource's cluster turns its condition to NoSuchCluster.
  applier_.add_reload_step(
      [this](const Config& next) -> core::Result<ConfigApplier::Commit, std::vector<std::string>> {
        std::lock_guard lock(mutex_);
        if (computed_for_ != &next) return ConfigApplier::Commit([] {});
        return ConfigApplier::Commit([this, verdicts = computed_, in_effect = computed_in_effect_] {
          std::lock_guard lock(mutex_);
          applied_ = verdicts;
          in_effect_ = in_effect;
          if (!publishing_) report_locked();
        });
      });
}

KubernetesRoutes::~KubernetesRoutes() {
  stop();
}

void KubernetesRoutes::start() {
  status_.start();
  watcher_.start();
}

void KubernetesRoutes::stop() {
  watcher_.stop();
  status_.stop();
}

std::string KubernetesRoutes::source_of_cluster(std::string_view name) const {
  std::lock_guard lock(mutex_);
  if (!in_effect_.contains(name)) return "file";
  return "kubernetes/" + namespace_ + "/" + std::string(name);
}

ConfigApplier::Overlay KubernetesRoutes::overlay_for(std::shared_ptr<const View> view) {
  std::shared_ptr<const View> previous;
  {
    std::lock_guard lock(mutex_);
    previous = std::make_shared<const View>(in_effect_);
  }
  return [this, view, previous](const std::shared_ptr<const Config>& file) {
    core::k8s::Overlaid out = core::k8s::overlay(file, *view, *previous);
    std::lock_guard lock(mutex_);
    computed_for_ = out.config.get();
    computed_ = std::move(out.verdicts);
    computed_in_effect_ = std::move(out.in_effect);
    return out.config;
  };
}

std::optional<std::string> KubernetesRoutes::try_apply(const View& view) {
  auto result =
      applier_.apply_overlay(overlay_for(std::make_shared<const View>(view)), "kubernetes");
  {
    // A refused attempt's config is gone; its address must not pass for a later one's.
    std::lock_guard lock(mutex_);
    computed_for_ = nullptr;
  }
  if (result.success) return std::nullopt;
  return result.errors.empty() ? result.message : result.errors.front();
}

void KubernetesRoutes::on_view(const View& view) {
  View accepted;
  std::map<std::string, Refusal, std::less<>> still_refused;
  {
    std::lock_guard lock(mutex_);
    latest_ = view;
    publishing_ = true;
    accepted = accepted_;
    still_refused = refused_;
  }
  // The names whose resource differs from what runs; one refused at this generation already is
  // not tried again until it changes (every event would otherwise retry it).
  std::set<std::string> changed;
  for (const auto& [name, route] : view) {
    if (auto r = still_refused.find(name);
        r != still_refused.end() && r->second.generation == route.generation) {
      continue;
    }
    auto it = accepted.find(name);
    if (it == accepted.end() ||
        !(it->second.backends == route.backends && it->second.decode_error == route.decode_error &&
          it->second.generation == route.generation)) {
      changed.insert(name);
    }
  }
  for (const auto& [name, route] : accepted) {
    if (!view.contains(name)) changed.insert(name);
  }
  std::map<std::string, Refusal, std::less<>> refused;
  auto refuse = [&](const std::string& name, std::string message) {
    auto it = view.find(name);
    if (it == view.end()) return;  // a deletion the applier refused: nothing to report on
    refused[name] =
        Refusal{it->second.generation,
                core::k8s::Verdict{core::k8s::Reason::ApplyRefused, std::move(message)}};
  };
  if (!changed.empty()) {
    // The whole view, without the resources still refused (they keep what runs).
    View wanted = view;
    for (const auto& [name, refusal] : still_refused) {
      if (changed.contains(name) || !view.contains(name)) continue;
      if (auto a = accepted.find(name); a != accepted.end()) {
        wanted.insert_or_assign(name, a->second);
      } else {
        wanted.erase(name);
      }
    }
    if (auto error = try_apply(wanted); !error) {
      accepted = std::move(wanted);
    } else if (changed.size() == 1) {
      refuse(*changed.begin(), *error);
    } else {
      // One at a time on top of what runs: the bad ones stay out, the others apply.
      for (const auto& name : changed) {
        View step = accepted;
        if (auto it = view.find(name); it != view.end()) {
          step.insert_or_assign(name, it->second);
        } else {
          step.erase(name);
        }
        if (auto step_error = try_apply(step); !step_error) {
          accepted = std::move(step);
        } else {
          refuse(name, *step_error);
        }
      }
    }
  }
  std::lock_guard lock(mutex_);
  accepted_ = std::move(accepted);
  // A refusal lasts until that resource changes again.
  for (auto it = refused_.begin(); it != refused_.end();) {
    it = changed.contains(it->first) || !latest_.contains(it->first) ? refused_.erase(it)
                                                                     : std::next(it);
  }
  refused_.merge(refused);
  publishing_ = false;
  report_locked();
}

void KubernetesRoutes::report_locked() {
  std::vector<k8s::StatusReport> reports;
  for (const auto& [name, route] : latest_) {
    k8s::StatusReport r;
    r.name = name;
    r.generation = route.generation;
    r.current = route.accepted_condition;
    if (auto refused = refused_.find(name); refused != refused_.end()) {
      r.verdict = refused->second.verdict;
    } else if (auto verdict = applied_.find(name);
               verdict != applied_.end() && accepted_.contains(name) &&
               accepted_.at(name).generation == route.generation) {
      r.verdict = verdict->second;
    } else {
      continue;  // not applied yet
    }
    reports.push_back(std::move(r));
  }
  status_.report(std::move(reports));
}

}  // namespace vx::app
