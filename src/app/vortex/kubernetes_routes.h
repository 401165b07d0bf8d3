// KubernetesRoutes: the wiring of issue 15's watcher. The RouteWatcher's views become an overlay
// on the file config (core/k8s/route_overlay.h) applied through the ConfigApplier, like any
// reload; the verdicts of every successful apply, whatever its source, go to the StatusWriter.
// A view the applier refuses (an address that does not resolve ...) is retried resource by
// resource, so one bad resource never holds back the others; the ones still refused keep their
// previous state and report ApplyRefused. Created on the main thread; the watcher thread calls
// on_view(), any applying thread the overlay and the reload step.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/k8s/route_watcher.h"
#include "adapters/k8s/status_writer.h"
#include "app/vortex/config_applier.h"
#include "core/config/config.h"
#include "core/k8s/route_overlay.h"

namespace vx::app {

class KubernetesRoutes {
 public:
  // `settings`: the running config's kubernetes block (enabled). Registers a reload step on
  // `applier` (which must outlive this): construct before the applier is ready.
  KubernetesRoutes(const core::config::Kubernetes& settings, ConfigApplier& applier);
  ~KubernetesRoutes();
  KubernetesRoutes(const KubernetesRoutes&) = delete;
  KubernetesRoutes& operator=(const KubernetesRoutes&) = delete;

  // After the applier is ready / before it stops being ready.
  void start();
  void stop();

  // Where the endpoints of cluster `name` come from: "kubernetes/<namespace>/<name>" when an
  // accepted VortexRoute fills it (SPEC.md §7: then all of them do), else "file". Any thread.
  std::string source_of_cluster(std::string_view name) const;

  const adapters::k8s::RouteWatcher& watcher() const { return watcher_; }
  const adapters::k8s::StatusWriter& status() const { return status_; }

 private:
  using View = core::k8s::RouteView;

  void on_view(const View& view);
  // Applies `view` through the applier; the first message when refused.
  std::optional<std::string> try_apply(const View& view);
  ConfigApplier::Overlay overlay_for(std::shared_ptr<const View> view);
  // Hands every resource's verdict to the status writer. Holds mutex_.
  void report_locked();

  const std::string namespace_;
  ConfigApplier& applier_;
  adapters::k8s::StatusWriter status_;
  adapters::k8s::RouteWatcher watcher_;

  mutable std::mutex mutex_;
  View latest_;    // what the API server says now
  View accepted_;  // what the running overlay was made from
  // ApplyRefused, by name, with the generation refused: tried again when that changes.
  struct Refusal {
    int64_t generation = 0;
    core::k8s::Verdict verdict;
  };
  std::map<std::string, Refusal, std::less<>> refused_;
  // The verdicts of the last overlay computed (by the config it made) and of the last applied.
  const core::config::Config* computed_for_ = nullptr;
  std::map<std::string, core::k8s::Verdict, std::less<>> computed_;
  std::map<std::string, core::k8s::Verdict, std::less<>> applied_;
  View computed_in_effect_;
  View in_effect_;  // whose endpoints run now (a refused update keeps the version before it)
  bool publishing_ = false;  // on_view() is applying: it reports itself when done
};

}  // namespace vx::app
