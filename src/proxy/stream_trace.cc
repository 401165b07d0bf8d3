#include "proxy/stream_trace.h"

#include <array>
#include <charconv>

#include "core/trace/sampler.h"
#include "core/trace/tracestate.h"

namespace vx::proxy {

using core::trace::SpanKind;
using core::trace::SpanRecord;
using core::trace::SpanStatus;

namespace {

constexpr std::string_view kTraceParent = "traceparent";
constexpr std::string_view kTraceState = "tracestate";

// "host:port", "[v6]:port" or "host" → host and port (0 when none).
std::pair<std::string_view, uint16_t> split_host_port(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || address.find(']', colon) != std::string_view::npos) {
    return {address, 0};
  }
  uint16_t port = 0;
  const std::string_view digits = address.substr(colon + 1);
  std::from_chars(digits.data(), digits.data() + digits.size(), port);
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, port};
}

std::string_view status_text(uint16_t status, char (&buf)[8]) {
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, status);
  return {buf, static_cast<size_t>(end - buf)};
}

}  // namespace

void StreamTrace::begin(core::http::RequestHead& head, double sample_ratio, core::Random& random,
                        Clock::time_point started, const ports::ConnectionFacts& facts) {
  // One pass: the caller's context, then both fields go unless they may continue.
  std::optional<core::trace::TraceParent> parent;
  size_t parents = 0;
  std::array<std::string_view, 8> states;
  size_t state_fields = 0;
  bool state_overflow = false;
  for (const auto& field : head.headers) {
    if (field.name.size() == kTraceParent.size() && core::http::iequals(field.name, kTraceParent)) {
      if (++parents == 1) parent = core::trace::parse_traceparent(field.value);
    } else if (field.name.size() == kTraceState.size() &&
               core::http::iequals(field.name, kTraceState)) {
      if (state_fields < states.size()) {
        states[state_fields++] = field.value;
      } else {
        state_overflow = true;
      }
    }
  }
  // Two traceparent fields cannot both be the caller's: neither is (§3.2: an invalid one means
  // a new trace). Without a valid parent the tracestate is not read (§3.3).
  if (parents > 1) parent.reset();
  const bool keep_state =
      parent && !state_overflow && core::trace::valid_tracestate({states.data(), state_fields});
  if (parents > 0 || (state_fields > 0 && !keep_state)) {
    std::erase_if(head.headers, [&](const core::http::Header& field) {
      if (field.name.size() == kTraceParent.size()) {
        return core::http::iequals(field.name, kTraceParent);
      }
      return !keep_state && field.name.size() == kTraceState.size() &&
             core::http::iequals(field.name, kTraceState);
    });
  }

  trace_id_ = parent ? parent->trace_id : core::trace::new_trace_id(random);
  server_span_ = core::trace::new_span_id(random);
  sampled_ = core::trace::should_sample(parent, trace_id_, sample_ratio);
  flags_ = sampled_ ? core::trace::kSampledFlag : 0;
  attempts_ = 0;
  steady_start_ = started;
  core::trace::to_hex(trace_id_, trace_id_hex_);
  if (!sampled_) return;

  // Wall time once per sampled stream; later points are derived from the steady clock.
  const auto age = Clock::now() - started;
  unix_start_ns_ =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch() - age)
                                .count());
  // Every field the SERVER span reads is set here or in finish(): no fill of its 1 KiB first.
  SpanRecord& s = server_;
  s.status = SpanStatus::Unset;
  s.rate_limit = core::trace::RateLimitDecision::None;
  s.event_count = 0;
  s.error.assign({});
  s.trace_id = trace_id_;
  s.span_id = server_span_;
  s.parent_span_id = parent ? parent->parent_id : core::trace::SpanId{};
  s.flags = flags_;
  s.kind = SpanKind::Server;
  s.method.assign(head.method);
  s.scheme.assign(head.scheme);
  s.path.assign(head.path());
  const std::string_view protocol = facts.protocol;
  s.protocol_version.assign(protocol.size() > 5 ? protocol.substr(5) : protocol);  // "HTTP/"
  s.server_address.assign(split_host_port(head.authority).first);
  s.server_port = facts.local_port;
  s.client_address.assign(facts.client_ip);
  s.client_port = facts.client_port;
  s.user_agent.assign(core::http::find_header(head.headers, "user-agent").value_or(""));
}

void StreamTrace::begin_attempt(core::http::RequestHead& head, core::Random& random) {
  client_span_ = core::trace::new_span_id(random);
  ++attempts_;
  if (sampled_) attempt_start_ = Clock::now();
  core::trace::format_traceparent(trace_id_, client_span_, flags_, traceparent_);
  const std::string_view value(traceparent_, sizeof traceparent_);
  for (auto& field : head.headers) {
    if (field.name == kTraceParent) {  // ours, from the attempt before
      field.value = value;
      return;
    }
  }
  head.headers.push_back({kTraceParent, value});
}

void StreamTrace::end_attempt(ports::SpanExporter& exporter, const AttemptOutcome& outcome,
                              Clock::time_point ended) {
  if (!sampled_) return;
  SpanRecord s;  // its texts are left unfilled (FixedText): only what is set below is read
  s.trace_id = trace_id_;
  s.span_id = client_span_;
  s.parent_span_id = server_span_;
  s.flags = flags_;
  s.kind = SpanKind::Client;
  s.method.assign(server_.method.view());
  s.cluster.assign(outcome.cluster);
  s.endpoint.assign(outcome.endpoint);
  const auto [host, port] = split_host_port(outcome.endpoint);
  s.server_address.assign(host);
  s.server_port = port;
  s.attempts = static_cast<uint16_t>(attempts_ - 1);  // http.request.resend_count
  s.http_status = outcome.upstream_status;
  if (outcome.error) {
    s.status = SpanStatus::Error;
    s.error.assign(outcome.error->detail);
  } else if (outcome.upstream_status >= 500) {
    s.status = SpanStatus::Error;  // semconv: a CLIENT span's 5xx is an error
    char buf[8];
    s.error.assign(status_text(outcome.upstream_status, buf));
  }
  s.start_unix_ns = unix_ns(attempt_start_);
  s.end_unix_ns = unix_ns(ended);
  exporter.submit(s);
}

void StreamTrace::event(core::trace::SpanEventKind kind, Clock::time_point at) {
  if (sampled_) server_.add_event(kind, unix_ns(at));
}

void StreamTrace::finish(ports::SpanExporter& exporter, const ServerOutcome& outcome,
                         Clock::time_point ended) {
  if (!sampled_) return;
  SpanRecord& s = server_;
  s.http_status = outcome.status;
  s.route.assign(outcome.route);
  s.http_route.assign(outcome.http_route);
  if (outcome.http_route_prefix) s.http_route.append("*");
  s.cluster.assign(outcome.cluster);
  s.endpoint.assign(outcome.endpoint);
  s.rate_limit = outcome.rate_limit;
  s.answered_by.assign(outcome.answered_by);
  s.attempts = attempts_;
  // semconv: a SERVER span is an error on 5xx only (a 4xx is the client's).
  if (outcome.status >= 500 && outcome.status <= 599) {
    s.status = SpanStatus::Error;
    char buf[8];
    s.error.assign(outcome.error.empty() ? status_text(outcome.status, buf) : outcome.error);
  }
  s.start_unix_ns = unix_start_ns_;
  s.end_unix_ns = unix_ns(ended);
  exporter.submit(s);
}

uint64_t StreamTrace::unix_ns(Clock::time_point t) const {
  return unix_start_ns_ +
         static_cast<uint64_t>(
             std::chrono::duration_cast<std::chrono::nanoseconds>(t - steady_start_).count());
}

}  // namespace vx::proxy
