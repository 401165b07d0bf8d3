// StatusWriter: writes each VortexRoute's Accepted condition to its .status (PATCH
// application/merge-patch+json on the status subresource) on its own thread, only when the
// verdict or the generation changed since it last wrote it; a failed write is tried again with
// a backoff. Counts and logs every refusal once per generation (the rejected metric).
// report() is thread-safe and never blocks on the network.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/k8s/route_watcher.h"
#include "core/k8s/vortex_route.h"

namespace vx::adapters::k8s {

struct StatusReport {
  std::string name;
  int64_t generation = 0;
  core::k8s::Verdict verdict;
  // What the resource's status says now, if it says anything: equal to the verdict, nothing is
  // written (a restart does not rewrite every status).
  std::optional<core::k8s::VortexRoute::Condition> current;

  bool same_verdict(const StatusReport& other) const {
    return generation == other.generation && verdict == other.verdict;
  }
};

class StatusWriter {
 public:
  static constexpr std::chrono::milliseconds kWriteTimeout{10000};

  StatusWriter(RouteWatcher::LoadAccess load_access, std::string namespace_);
  ~StatusWriter();
  StatusWriter(const StatusWriter&) = delete;
  StatusWriter& operator=(const StatusWriter&) = delete;

  void start();
  void stop();

  // The verdict of every resource that exists now (a resource left out was deleted: nothing is
  // written for it). Any thread; returns at once.
  void report(std::vector<StatusReport> all);

  // Refusals by core::k8s::Reason (vortex_kubernetes_resources_rejected_total{reason}).
  uint64_t rejected(core::k8s::Reason reason) const {
    return rejected_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
  uint64_t write_failures() const { return write_failures_.load(std::memory_order_relaxed); }

 private:
  struct Written {
    StatusReport report;
    std::string transition_time;  // RFC 3339: when the condition's status last changed
  };

  void run();

  const RouteWatcher::LoadAccess load_access_;
  const std::string namespace_;
  std::array<std::atomic<uint64_t>, core::k8s::kReasonCount> rejected_{};
  std::atomic<uint64_t> write_failures_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, StatusReport, std::less<>> wanted_;  // guarded by mutex_
  std::map<std::string, StatusReport, std::less<>> seen_;    // guarded by mutex_: for counting
  bool dirty_ = false;
  std::atomic<bool> stopping_{false};
  std::map<std::string, Written, std::less<>> written_;  // writer thread only
  std::thread thread_;
};

}  // namespace vx::adapters::k8s
