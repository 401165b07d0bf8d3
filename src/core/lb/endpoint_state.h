// EndpointState: what every worker knows about one upstream endpoint: latency estimate, requests
// in flight, circuit breaker and health. Shared by all workers and the health checker; atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/breaker/circuit_breaker.h"
#include "core/config/config.h"
#include "core/lb/peak_ewma.h"
#include "core/ports/clock.h"

namespace vx::core::lb {

// Own cache line(s): every request writes its endpoint's counters, and neighbours in the
// balancer's table must not share those lines.
class alignas(64) EndpointState {
 public:
  // Starts healthy (no check has failed yet; starting unhealthy would answer 503 for
  // healthy_after intervals after every start and reload), breaker closed, estimate at
  // default_rtt, nothing in flight. A weight below 1 counts as 1.
  EndpointState(const config::Endpoint& endpoint, const config::Cluster& cluster, TimePoint now);

  EndpointState(const EndpointState&) = delete;
  EndpointState& operator=(const EndpointState&) = delete;

  const std::string& address() const { return endpoint_.address.text; }  // "host:port"
  const config::SocketAddress& socket_address() const { return endpoint_.address; }
  uint32_t weight() const { return weight_; }
  const std::vector<std::string>& ai_models() const { return endpoint_.ai_models; }
  bool serves_model(std::string_view model) const;

  PeakEwma& latency() { return latency_; }
  const PeakEwma& latency() const { return latency_; }
  breaker::CircuitBreaker& breaker() { return breaker_; }
  const breaker::CircuitBreaker& breaker() const { return breaker_; }

  // Requests assigned and not yet finished, connecting ones included (see ActiveRequest).
  uint32_t active() const { return active_.load(std::memory_order_relaxed); }

  // peak_ewma_score(latency at now, active): lower is better. The latency is the estimate, or
  // the mean age of the requests still waiting for their response head when that is higher: a
  // request waiting for 30 ms says the endpoint now takes at least that long, 30 ms before its
  // answer would.
  double score(TimePoint now) const;

  // Mean time the requests waiting for a response head have waited so far, in ms; 0 with none
  // (or when a racing start/end made the snapshot inconsistent: the signal is then skipped).
  double pending_age_ms(TimePoint now) const;

  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

  // One active health-check result (the checker thread). unhealthy_after failures in a row
  // turn a healthy endpoint unhealthy; healthy_after successes in a row turn it back (SPEC.md
  // health_check). Returns true when this result flipped the health flag (for a log line).
  bool on_health_check(bool ok);

  // May a new request go here now: healthy and the breaker would admit. Takes no probe ticket.
  bool eligible(TimePoint now) const { return healthy() && breaker_.would_admit(now); }

 private:
  friend class ActiveRequest;
  void add_active() { active_.fetch_add(1, std::memory_order_relaxed); }
  void remove_active() { active_.fetch_sub(1, std::memory_order_relaxed); }
  // The start-time sum always covers at least the requests pending_ counts (added before the
  // count rises, removed after it falls), so a torn read only makes the mean age look younger;
  // pending_age_ms() detects the one unsafe interleaving by reading the sum twice.
  void add_pending(TimePoint start) {
    pending_start_sum_ns_.fetch_add(since_born_ns(start), std::memory_order_relaxed);
    pending_.fetch_add(1, std::memory_order_release);
  }
  void remove_pending(TimePoint start) {
    pending_.fetch_sub(1, std::memory_order_release);
    pending_start_sum_ns_.fetch_sub(since_born_ns(start), std::memory_order_release);
  }
  int64_t since_born_ns(TimePoint t) const {
    return std::chrono::duration_cast<Nanos>(t - born_).count();
  }

  // What every pick reads and every request writes comes first, in the object's first lines;
  // the config copy, read only by admin and logs, after it.
  PeakEwma latency_;
  breaker::CircuitBreaker breaker_;
  std::atomic<uint32_t> active_{0};
  std::atomic<uint32_t> pending_{0};              // active requests without a response head
  std::atomic<int64_t> pending_start_sum_ns_{0};  // their start times, since born_
  std::atomic<bool> healthy_{true};
  const TimePoint born_;  // keeps the start-time sum small
  const uint32_t weight_;
  const uint32_t unhealthy_after_;
  const uint32_t healthy_after_;
  std::atomic<uint32_t> check_failures_{0};   // in a row
  std::atomic<uint32_t> check_successes_{0};  // in a row
  const config::Endpoint endpoint_;
};

}  // namespace vx::core::lb
