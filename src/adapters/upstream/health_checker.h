// HealthChecker: the process's active health checks (SPEC.md clusters[].health_check). One side
// thread with its own io_context probes every endpoint of every cluster that has a health_check
// and feeds the results to EndpointState::on_health_check(), which the workers' balancers read.
// Probes speak the cluster's protocol: HTTP/1.1, h2c or h2, over TLS when it has a tls block.
// start()/stop() from the owning (main) thread; everything else runs on the checker's thread.
#pragma once

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/lb/endpoint_state.h"
#include "ports/awaitable_result.h"
#include "proxy/runtime_holder.h"

namespace vx::adapters::upstream {

class HealthChecker {
 public:
  // `runtime` must outlive the checker. Follows reloads: each round reads the Runtime the holder
  // publishes now, so new clusters and endpoints are probed from their first round and removed
  // ones are dropped. An endpoint kept across a reload keeps its schedule and its counts (the
  // balancer shares its EndpointState).
  explicit HealthChecker(const proxy::RuntimeHolder& runtime);
  ~HealthChecker();  // stop()

  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Starts the thread. The first probe of each endpoint goes out at once; later ones every
  // interval_ms, each bounded by timeout_ms (connect, TLS handshake, send and response head
  // together).
  void start();
  // Stops the thread and abandons probes in flight (their results are dropped). Idempotent.
  void stop();
  // The holder has a new Runtime (a reload): probe its new endpoints now. Any thread.
  void runtime_published();

 private:
  using Clock = std::chrono::steady_clock;
  using Timer =
      boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, ports::Executor>;

  // Per endpoint, kept across rounds (and reloads, for an endpoint state shared by both).
  struct Slot {
    Clock::time_point due{};
    bool in_flight = false;
  };
  // One endpoint to probe, as found in the current Runtime.
  struct Target {
    const proxy::ClusterRuntime* cluster;
    size_t index;  // into cluster->balancer->endpoints() and cluster->addresses
    std::shared_ptr<Slot> slot;
  };

  // The scheduler: probes each target when due, forever. Waits `start_after` first.
  ports::Awaitable<void> run(Clock::duration start_after);
  void spawn_scheduler(Clock::duration start_after);
  // Re-reads the holder when it published a new Runtime and rebuilds targets_.
  void refresh();
  ports::Awaitable<void> probe(std::shared_ptr<const proxy::Runtime> runtime, Target target);
  void log_transition(const proxy::ClusterRuntime& cluster, const core::lb::EndpointState& state,
                      std::string_view why, uint16_t status);

  const proxy::RuntimeHolder& holder_;
  boost::asio::io_context io_{1};
  std::thread thread_;
  bool started_ = false;

  // Checker thread only.
  // The scheduler sleeps on it until the next probe is due; a reload (runtime_published) or a
  // probe that ends past its next due time cancels it.
  Timer sleep_{io_.get_executor()};
  uint64_t generation_ = ~0ULL;
  std::shared_ptr<const proxy::Runtime> runtime_;
  std::vector<Target> targets_;
  std::unordered_map<const core::lb::EndpointState*, std::shared_ptr<Slot>> slots_;
  // Transition log budget: kLogBurst lines per second, the rest counted and reported later.
  Clock::time_point log_window_{};
  uint32_t logged_in_window_ = 0;
  uint64_t unlogged_ = 0;
};

}  // namespace vx::adapters::upstream
