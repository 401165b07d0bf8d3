// RetryPolicy: after a failed upstream attempt, whether the stream tries again and how, and
// whether the failure counts against the endpoint (SPEC.md routes[].retries). Pure decisions;
// one per stream, on the worker's thread.
//
// The rules:
//  1. Only idempotent methods retry (RFC 9110 §9.2.2), and only what the route's `retries.on`
//     lists: connect_failure (nothing of the request was sent) and reset (the upstream closed
//     or reset before any response byte, with a request whose body can be sent again), at most
//     `retries.attempts` times, each to another endpoint when there is one.
//  2. A reset on a connection reused from the pool, before any response byte, may be a
//     keep-alive race (or an HTTP/2 stream refused unprocessed): once per stream it is retried
//     on a fresh connection, to any endpoint, without using up a retry (Pingora's ReusedOnly)
//     and without counting against the endpoint, since a GOAWAY refuses many streams at once
//     and would open the breaker.
//  3. Once any response byte reached the client, nothing is retried.
#pragma once

#include <cstdint>
#include <optional>

#include "core/config/config.h"
#include "core/http/error.h"

namespace vx::core::retry {

enum class RetryDecision : uint8_t {
  GiveUp,     // answer with the last error
  Retry,      // again, to another endpoint if there is one
  RetryFresh  // again on a new connection (rule 2); any endpoint, the same one included
};

struct ExchangeFailure {
  http::Error error;
  bool resendable = false;        // the request can be sent again (no body was consumed)
  bool response_started = false;  // a response byte reached the client
  bool reused = false;            // the connection came from the idle pool
};

struct RetryVerdict {
  RetryDecision decision = RetryDecision::GiveUp;
  bool blame_endpoint = false;  // count the failure against the endpoint (breaker, EWMA)
};

class RetryPolicy {
 public:
  // `retries`: the route's (nullopt: none); `idempotent`: the request's method is.
  RetryPolicy(const std::optional<config::RetryPolicy>& retries, bool idempotent);

  // The pool could not connect (refused, timed out, TLS failed): nothing of the request left.
  RetryDecision after_connect_failure();
  // The exchange failed after the request (or part of it) was sent.
  RetryVerdict after_exchange_failure(const ExchangeFailure& failure);
  // The next attempt must skip the idle pool (after rule 2).
  bool fresh_only() const { return fresh_only_; }

 private:
  bool allows(config::RetryOn on) const;
  bool take_retry(config::RetryOn on);

  const std::optional<config::RetryPolicy>& retries_;
  uint32_t retries_left_;
  bool stale_retry_left_;
  bool fresh_only_ = false;
};

}  // namespace vx::core::retry
