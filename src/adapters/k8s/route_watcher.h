// RouteWatcher: keeps the full view of the VortexRoutes of one namespace, on its own thread:
// list (paged, bounded), then watch from the list's resourceVersion with bookmarks; a watch the
// server ends is resumed from the last resourceVersion seen; 410 Gone, a broken stream or an
// event it cannot read make it list again, after a backoff (core/k8s/watch_backoff.h). Hands on
// a view only when it is whole: after a complete list, or after the events of one read. The API
// server being slow or gone only holds this thread. Counters are atomics, read from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/k8s/kube_access.h"
#include "core/k8s/route_overlay.h"
#include "core/result.h"

namespace vx::adapters::k8s {

class KubeClient;

class RouteWatcher {
 public:
  // The watch event types, in the order of Counters::events.
  static constexpr std::array<const char*, 5> kEventTypes{"ADDED", "MODIFIED", "DELETED",
                                                          "BOOKMARK", "ERROR"};
  // A list body larger than this fails the list (and is retried): a bound on memory, far above
  // 500 resources of kMaxBackends backends each page.
  static constexpr size_t kMaxListBytes = 64 << 20;
  static constexpr size_t kPageSize = 500;
  static constexpr std::chrono::milliseconds kListTimeout{30000};
  // The server ends each watch after timeoutSeconds (resumed at once); a stream silent for
  // longer than kWatchIdle is taken as broken.
  static constexpr int kWatchTimeoutSeconds = 50;
  static constexpr std::chrono::seconds kWatchIdle{kWatchTimeoutSeconds + 25};
  // One watch event line larger than this breaks the stream (then a list follows).
  static constexpr size_t kMaxEventBytes = 8 << 20;

  struct Counters {
    std::array<std::atomic<uint64_t>, kEventTypes.size()> events{};
    std::atomic<uint64_t> relists{0};    // lists after the first
    std::atomic<uint64_t> failures{0};   // lists and watches that failed
    std::atomic<bool> connected{false};  // a watch stream is open
    std::atomic<bool> synced{false};     // the last view handed on is current
  };

  // Where to find the API server; called before every list, so a kubeconfig or service account
  // that appears or changes later is used.
  using LoadAccess = std::function<core::Result<KubeAccess, std::string>()>;
  // Receives each whole view, on the watcher thread; may block (it applies a config).
  using OnView = std::function<void(const core::k8s::RouteView&)>;

  RouteWatcher(LoadAccess load_access, std::string namespace_, OnView on_view);
  ~RouteWatcher();
  RouteWatcher(const RouteWatcher&) = delete;
  RouteWatcher& operator=(const RouteWatcher&) = delete;

  void start();
  // Ends the thread within about a second (a request in flight is aborted).
  void stop();

  const Counters& counters() const { return counters_; }

 private:
  enum class WatchEnd : uint8_t { Expired, Gone, Broken, Stopped };

  void run();
  // The whole list into view_ and resource_version_; false (and a log line) when it failed.
  bool list(KubeClient& client);
  WatchEnd watch(KubeClient& client);
  // Waits `d` unless stop() comes first; false when stopping.
  bool pause(std::chrono::milliseconds d);
  std::string collection_path() const;

  const LoadAccess load_access_;
  const std::string namespace_;
  const OnView on_view_;
  Counters counters_;
  core::k8s::RouteView view_;  // watcher thread only
  std::string resource_version_;
  uint64_t lists_ = 0;

  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace vx::adapters::k8s
