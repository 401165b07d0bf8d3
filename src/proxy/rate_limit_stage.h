// The rate-limit stage of the pipeline (SPEC.md rate_limits, §3 429): one decision per request
// of a route with a policy, the RateLimit-* fields for the answer, and the 429 itself.
// Runs on the worker's thread.
#pragma once

#include <array>
#include <string>

#include "core/http/header.h"
#include "core/ratelimit/policy.h"
#include "core/ratelimit/rate_limit_headers.h"
#include "ports/awaitable_result.h"
#include "proxy/request_logger.h"
#include "proxy/worker_context.h"

namespace vx::proxy {

struct RateLimitVerdict {
  RateLimitOutcome outcome = RateLimitOutcome::None;
  bool deny = false;  // answer 429 (limited, or the store failed with on_error: deny)
  core::ratelimit::RateLimitHeaderValues values;
};

// Decides for one request. A store failure follows on_store_error: allow lets the request
// through without RateLimit-* fields, deny answers 429 asking to retry after one emission
// interval. Never throws; never waits longer than the store's own timeout.
ports::Awaitable<RateLimitVerdict> decide_rate_limit(const core::ratelimit::Policy& policy,
                                                     std::string_view key, WorkerContext& worker);

// Number text for the fields lives here, beside the list that points at it.
struct RateLimitFields {
  std::array<std::array<char, 24>, 4> text;
  core::http::HeaderList headers;
};

// Fills `fields.headers` with RateLimit-Limit, -Remaining, -Reset, and Retry-After when denied.
void make_rate_limit_fields(const RateLimitVerdict& verdict, RateLimitFields& fields);

// The client address that rate-limit keys and bans use. An IPv4-mapped IPv6 address
// ("::ffff:1.2.3.4": an IPv4 client of a dual-stack listener) becomes "1.2.3.4", the form the
// listener checks bans against, so a client has one bucket and one ban whatever listener it
// came through. Returns a view into `ip`.
std::string_view canonical_client_ip(std::string_view ip);

// {"error":"Rate limit exceeded","retry_after_ms":N}
std::string rate_limited_body(uint64_t retry_after_ms);

}  // namespace vx::proxy
