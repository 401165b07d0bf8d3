// ActiveRequest: RAII guard for one request assigned to an endpoint; counts it as active and
// records its outcome. One per request, used by the worker that owns the request; movable.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/breaker/circuit_breaker.h"
#include "core/lb/endpoint_state.h"
#include "core/ports/clock.h"

namespace vx::core::lb {

// Failure = connect error, reset, timeout or 5xx (what the breaker counts).
enum class Outcome : uint8_t { Success, Failure };

// The latency a failure records, if it took less. A refused connection fails in microseconds;
// recorded as is, a dead endpoint would look like the fastest one. 1 s is above any latency
// worth choosing (the default connect timeout) yet, with the default 10 s decay, reads back
// within a few ms of default_rtt after about a minute with no traffic, so the endpoint is
// probed again rather than starved (PeakEwma invariant 3).
inline constexpr std::chrono::milliseconds kFailurePenalty{1000};

// Lifecycle: constructed when the balancer assigns the endpoint (active + 1, so a request counts
// while still connecting); ended exactly once by finish(), cancel() or the destructor
// (active - 1). After a move only the destination ends it.
class ActiveRequest {
 public:
  // Normally made by LoadBalancer::pick(). `admission` is what the endpoint's breaker granted.
  ActiveRequest(EndpointState& endpoint, breaker::Admission admission, TimePoint start);

  ActiveRequest(ActiveRequest&& other) noexcept;
  ActiveRequest& operator=(ActiveRequest&& other) noexcept;
  ActiveRequest(const ActiveRequest&) = delete;
  ActiveRequest& operator=(const ActiveRequest&) = delete;

  // Not ended yet: cancel() without a time, i.e. active - 1 and a probe ticket handed back;
  // nothing recorded (there is no time to measure against).
  ~ActiveRequest();

  // The final response head arrived: records the latency (now - start) into the endpoint's
  // PeakEwma, so the estimate is time to the head, not how long a body (an AI token stream,
  // a download, a tunnel) kept flowing, and stops counting the request as waiting
  // (EndpointState::pending_age_ms). The request stays active until it ends. Once only; no-op
  // once ended.
  void on_response_head(TimePoint now);

  // The request's outcome is known (success: the exchange completed; failure: see Outcome).
  // Records the outcome into the endpoint's breaker; and the latency into its PeakEwma: for a
  // failure at least kFailurePenalty, for a success now - start unless on_response_head() did
  // already. No-op once ended.
  void finish(Outcome outcome, TimePoint now);

  // The request ended without an outcome, e.g. the client went away. That says nothing about
  // the endpoint's health, so the breaker is not told (its probe ticket goes back); but the
  // time waited is a lower bound on the endpoint's latency and is recorded when it is at least
  // the current estimate, so
  // a stalled endpoint whose clients give up still looks slow. No-op once ended.
  void cancel(TimePoint now);

  bool ended() const { return endpoint_ == nullptr; }
  // REQUIRES: !ended().
  EndpointState& endpoint() const { return *endpoint_; }
  TimePoint start() const { return start_; }
  const breaker::Admission& admission() const { return admission_; }

 private:
  void end();

  EndpointState* endpoint_;  // null once ended or moved from
  breaker::Admission admission_;
  TimePoint start_;
  bool head_received_ = false;
};

}  // namespace vx::core::lb
