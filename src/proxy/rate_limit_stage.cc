#include "proxy/rate_limit_stage.h"

#include <charconv>

namespace vx::proxy {

ports::Awaitable<RateLimitVerdict> decide_rate_limit(const core::ratelimit::Policy& policy,
                                                     std::string_view key, WorkerContext& worker) {
  RateLimitVerdict verdict;
  auto decided = co_await worker.rate_limits->decide(policy, key, core::SteadyClock::now());
  if (!decided) {
    verdict.outcome = RateLimitOutcome::Error;
    if (worker.on_store_error == core::config::OnError::Deny) {
      verdict.deny = true;
      core::ratelimit::Decision fallback;
      fallback.limit = policy.gcra.limit;
      fallback.retry_after = policy.gcra.emission_interval;
      fallback.reset_after = policy.gcra.emission_interval;
      verdict.values = core::ratelimit::rate_limit_header_values(fallback);
    }
    co_return verdict;
  }
  verdict.outcome = decided->allowed ? RateLimitOutcome::Allowed : RateLimitOutcome::Limited;
  verdict.deny = !decided->allowed;
  verdict.values = core::ratelimit::rate_limit_header_values(*decided);
  co_return verdict;
}

void make_rate_limit_fields(const RateLimitVerdict& verdict, RateLimitFields& fields) {
  fields.headers.clear();
  if (verdict.outcome == RateLimitOutcome::None ||
      (verdict.outcome == RateLimitOutcome::Error && !verdict.deny)) {
    return;
  }
  auto add = [&](size_t slot, std::string_view name, uint64_t value) {
    auto& buf = fields.text[slot];
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    fields.headers.push_back({name, std::string_view(buf.data(), end - buf.data())});
  };
  add(0, "ratelimit-limit", verdict.values.limit);
  add(1, "ratelimit-remaining", verdict.values.remaining);
  add(2, "ratelimit-reset", verdict.values.reset_seconds);
  if (verdict.deny) add(3, "retry-after", verdict.values.retry_after_seconds);
}

std::string_view canonical_client_ip(std::string_view ip) {
  constexpr std::string_view kMapped = "::ffff:";
  if (ip.size() > kMapped.size() && ip.substr(0, kMapped.size()) == kMapped &&
      ip.find('.', kMapped.size()) != std::string_view::npos) {
    return ip.substr(kMapped.size());
  }
  return ip;
}

std::string rate_limited_body(uint64_t retry_after_ms) {
  std::string body = "{\"error\":\"Rate limit exceeded\",\"retry_after_ms\":";
  body += std::to_string(retry_after_ms);
  body += "}";
  return body;
}

}  // namespace vx::proxy
