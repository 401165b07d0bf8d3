// ContainedFailures: the process-wide count, per TaskKind, of exceptions that escaped a spawned
// coroutine or a side thread and were stopped there (vortex_contained_failures_total{task}).
// Any thread; lock-free. Each one is a bug (the data plane reports failures as values,
// STYLE.md §3), so each is logged, but at most once a second per kind: a bug that every
// request hits must not flood the log, and the counter says how many there were.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>

#include "ports/task_kind.h"

namespace vx::ports {

class ContainedFailures {
 public:
  // Counts `error` under `kind` and, unless a failure of that kind was logged less than a
  // second ago, writes one line to stderr naming the kind, with what() when `error` holds a
  // std::exception. A null `error` counts nothing. Never throws, never blocks.
  [[gnu::cold]] static void record(TaskKind kind, std::exception_ptr error) noexcept {
    if (!error) return;
    PerKind& slot = per_kind_[static_cast<size_t>(kind)];
    const uint64_t total = slot.count.fetch_add(1, std::memory_order_relaxed) + 1;
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
    int64_t last_ns = slot.last_log_ns.load(std::memory_order_relaxed);
    if (last_ns != kNever && now_ns - last_ns < kLogIntervalNs) return;
    // Of threads failing in the same second, the one that moves the mark logs.
    if (!slot.last_log_ns.compare_exchange_strong(last_ns, now_ns, std::memory_order_relaxed)) {
      return;
    }
    const std::string_view name = task_kind_name(kind);
    const auto so_far = static_cast<unsigned long long>(total);
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vortex: %.*s task failed: %s (contained; %llu so far)\n",
                   static_cast<int>(name.size()), name.data(), e.what(), so_far);
    } catch (...) {
      std::fprintf(stderr, "vortex: %.*s task failed (contained; %llu so far)\n",
                   static_cast<int>(name.size()), name.data(), so_far);
    }
  }

  // How many failures of `kind` were recorded since the process started.
  static uint64_t count(TaskKind kind) noexcept {
    return per_kind_[static_cast<size_t>(kind)].count.load(std::memory_order_relaxed);
  }

  // Zero counts and forget when each kind last logged, so a test sees its own failures only.
  static void reset_for_test() noexcept {
    for (PerKind& slot : per_kind_) {
      slot.count.store(0, std::memory_order_relaxed);
      slot.last_log_ns.store(kNever, std::memory_order_relaxed);
    }
  }

 private:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
  static constexpr int64_t kLogIntervalNs = 1'000'000'000;

  struct PerKind {
    std::atomic<uint64_t> count{0};
    std::atomic<int64_t> last_log_ns{kNever};
  };
  static std::array<PerKind, kTaskKindCount> per_kind_;
};

// Out of the class: GCC needs PerKind's member initialisers complete before it can use them.
inline std::array<ContainedFailures::PerKind, kTaskKindCount> ContainedFailures::per_kind_{};

}  // namespace vx::ports
