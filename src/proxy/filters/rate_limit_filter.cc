#include "proxy/filters/rate_limit_filter.h"

#include "core/ratelimit/rate_limit_key.h"
#include "proxy/rate_limit_stage.h"
#include "proxy/stream_context.h"

namespace vx::proxy {

namespace {

ports::Awaitable<void> decide(StreamContext& stream, const core::ratelimit::Policy& policy,
                              uint32_t policy_index) {
  WorkerContext& worker = stream.worker();
  const core::http::RequestHead& request = stream.request_head();
  const std::string_view client = canonical_client_ip(stream.client_ip());
  const std::string_view key = core::ratelimit::request_key(
      policy.key, client,
      [&](std::string_view name) { return core::http::find_header(request.headers, name); },
      stream.route_name());
  const RateLimitVerdict limit = co_await decide_rate_limit(policy, key, worker);
  stream.record_rate_limit(limit.outcome, policy_index);
  RateLimitFields fields;
  make_rate_limit_fields(limit, fields);
  for (const auto& field : fields.headers) stream.add_response_header(field.name, field.value);
  if (!limit.deny) co_return;
  if (limit.outcome == RateLimitOutcome::Limited && worker.bans) {
    worker.bans->record_violation(client, core::SteadyClock::now());
  }
  const std::string_view body = stream.keep(rate_limited_body(limit.values.retry_after_ms));
  stream.respond({429, "application/json", body});
}

}  // namespace

core::filter::FilterStatus RateLimitFilter::on_request_head(
    ports::FilterStream& filter_stream) const {
  StreamContext& stream = StreamContext::of(filter_stream);
  if (!stream.worker().rate_limits) return core::filter::FilterStatus::Continue;
  stream.hold_until(decide(stream, policy_, policy_index_));
  return core::filter::FilterStatus::Hold;
}

}  // namespace vx::proxy
