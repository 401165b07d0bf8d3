#include "proxy/stream_context.h"

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <cstring>

#include "proxy/forwarded_headers.h"

namespace vx::proxy {

using core::filter::FilterStatus;
using core::http::Error;
using core::http::ErrorKind;

namespace {

class HeaderLookupAdapter final : public core::route::HeaderLookup {
 public:
  explicit HeaderLookupAdapter(const core::http::HeaderList& headers) : headers_(headers) {}
  std::optional<std::string_view> get(std::string_view lower_name) const override {
    return core::http::find_header(headers_, lower_name);
  }

 private:
  const core::http::HeaderList& headers_;
};

const FilterChain kNoFilters;

// A view of the head kept for the log hooks that does not point into its wire bytes: what a
// filter added is in the stream's arena already and stays; anything else is copied there.
std::string_view kept_elsewhere(std::string_view piece, core::filter::StringArena& arena) {
  if (piece.empty()) return {};
  return arena.holds(piece) ? piece : arena.keep(piece);
}

}  // namespace

StreamContext::StreamContext(DownstreamExchange& exchange, WorkerContext& worker)
    : exchange_(exchange),
      request_(exchange.request()),
      scratch_(exchange.scratch()),
      worker_(worker),
      runtime_(worker.runtime.get()),
      started_(Clock::now()),
      chain_(&kNoFilters),
      response_extra_(scratch_.response_extra) {
  core::http::RequestHead& request = request_;
  StreamScratch& scratch = scratch_;
  method_ = request.method;
  scratch.path.assign(request.target);
  scratch.arena.clear();
  response_extra_.clear();
  request_id_for(request, scratch.request_id, worker.random);
  request.scheme = exchange.tls() ? "https" : "http";
  ai_model_ = core::http::find_header(request.headers, "x-ai-model").value_or(std::string_view{});
  if (worker.spans) {
    const core::config::Tracing& tracing = runtime_->config().tracing;
    if (!tracing.otlp_endpoint.empty()) {
      trace_ = &scratch.trace;
      trace_->begin(request, tracing.sample_ratio, worker.random, started_,
                    exchange.connection_facts());
    }
  }
}

bool StreamContext::select_route() {
  const core::http::RequestHead& request = request_;
  HeaderLookupAdapter lookup(request.headers);
  const core::route::RequestView view{request.method, request.authority, request.target, &lookup,
                                      ai_model_};
  route_ = runtime_->routes().match(view);
  if (!route_) return false;
  route_index_ = static_cast<uint32_t>(runtime_->routes().index_of(route_));
  chain_ = &runtime_->route_filters(route_index_);
  StreamScratch& scratch = scratch_;
  if (chain_->wants(core::filter::Hook::RequestBody)) {
    scratch.request_body.start(*chain_, core::filter::Hook::RequestBody);
    request_body_ = &scratch.request_body;
  }
  if (chain_->wants(core::filter::Hook::ResponseBody)) {
    scratch.response_body.start(*chain_, core::filter::Hook::ResponseBody);
    response_body_ = &scratch.response_body;
  }
  return true;
}

void StreamContext::set_cluster(const ClusterRuntime& cluster) {
  cluster_ = &cluster;
  cluster_index_ = static_cast<uint32_t>(&cluster - runtime_->clusters().data());
}

void StreamContext::set_endpoint(size_t index, std::string_view address) {
  endpoint_index_ = static_cast<uint32_t>(index);
  upstream_ = address;
}

void StreamContext::fail(const Error& error) {
  if (error.kind == ErrorKind::DownstreamClosed) {
    status_ = 499;  // nothing to answer; nginx's "client closed request", for the log only
    answer_ = Answer::None;
    return;
  }
  if (answer_ == Answer::Local) return;  // a filter's answer stands (invariant 2)
  status_ = core::http::status_for(error.kind);
  error_ = error;
  answer_ = Answer::Error;
}

ports::Awaitable<void> StreamContext::send_answer() {
  const Answer answer = answer_;
  answer_ = Answer::None;
  if (exchange_.response_started()) co_return;  // too late for an answer: the codec aborts
  if (answer == Answer::Error) {
    static const core::http::HeaderList kNoHeaders;
    const std::string body = core::http::error_body(error_);
    bytes_sent_ = body.size();
    co_await exchange_.send_local(status_, "application/json", body, kNoHeaders);
  } else if (answer == Answer::Local) {
    status_ = local_.status;
    bytes_sent_ = local_.body.size();
    co_await exchange_.send_local(local_.status, local_.content_type, local_.body, response_extra_);
  }
}

FilterStatus StreamContext::run_head_hooks(const FilterChain& chain, core::filter::Hook hook,
                                           size_t from) {
  const auto entries = chain.entries();
  for (size_t i = from; i < entries.size(); ++i) {
    const FilterChain::Entry& entry = entries[i];
    if (!entry.hooks.has(hook)) continue;
    current_slot_ = entry.slot;
    const FilterStatus status = hook == core::filter::Hook::RequestHead
                                    ? entry.filter->on_request_head(*this)
                                    : entry.filter->on_response_head(*this);
    // respond() wins whatever the hook returned: the answer is owed either way.
    if (answer_pending()) {
      answered_by_ = entry.filter->name();
      return FilterStatus::Respond;
    }
    if (status == FilterStatus::Respond) {
      fail({ErrorKind::Internal, "a filter answered without a response"});
      return FilterStatus::Respond;
    }
    if (status == FilterStatus::Hold) {
      held_index_ = i;
      return FilterStatus::Hold;
    }
  }
  return FilterStatus::Continue;
}

ports::Awaitable<FilterStatus> StreamContext::resume_after_hold(const FilterChain& chain,
                                                                core::filter::Hook hook) {
  for (;;) {
    const FilterStatus waited = co_await wait_held();
    if (waited != FilterStatus::Continue) co_return waited;
    const FilterStatus next = run_head_hooks(chain, hook, held_index_ + 1);
    if (next != FilterStatus::Hold) co_return next;
  }
}

ports::Awaitable<FilterStatus> StreamContext::wait_held() {
  const Hold hold = hold_;
  hold_ = Hold::None;
  if (hold == Hold::Work) {
    auto work = std::move(*held_work_);
    held_work_.reset();
    try {
      co_await std::move(work);
    } catch (...) {
      // A filter's lookup that throws fails this stream only (STYLE.md §3).
      fail({ErrorKind::Internal, "a filter failed"});
    }
  } else if (hold == Hold::Callback) {
    if (!resume_signal_) resume_signal_.emplace(co_await boost::asio::this_coro::executor);
    while (!resumed_ && !answer_pending() && Clock::now() < hold_deadline_) {
      resume_signal_->expires_at(hold_deadline_);
      co_await resume_signal_->async_wait(ports::kDeferTuple);
    }
    if (!resumed_ && !answer_pending()) {
      fail({ErrorKind::Forbidden, "a filter held the request and did not resume it in time"});
    }
  } else {
    // Hold returned without hold() or hold_until(): nothing would ever resume it.
    fail({ErrorKind::Internal, "a filter held the request without saying for what"});
  }
  resumed_ = false;
  co_return answer_pending() ? FilterStatus::Respond : FilterStatus::Continue;
}

void StreamContext::finish(std::optional<Clock::time_point> ended) {
  if (finished_) return;  // invariant 1
  finished_ = true;
  const bool logs = chain_->wants(core::filter::Hook::Log) ||
                    runtime_->pre_route_filters().wants(core::filter::Hook::Log);
  if (trace_ && trace_->sampled()) {
    if (!ended) ended = Clock::now();
    finish_trace(*ended);
  }
  if (worker_.observers.empty() && !logs) return;
  const auto duration = (ended ? *ended : Clock::now()) - started_;
  if (logs) {
    const ports::StreamOutcome outcome{status_, bytes_sent_, duration, upstream_};
    for (const FilterChain* chain : {&runtime_->pre_route_filters(), chain_}) {
      for (const auto& entry : chain->entries()) {
        if (!entry.hooks.has(core::filter::Hook::Log)) continue;
        current_slot_ = entry.slot;
        entry.filter->on_log(*this, outcome);
      }
    }
  }
  const StreamScratch& scratch = scratch_;
  const RequestRecord record{method_,
                             scratch.path,
                             route_ ? std::string_view(route_->name) : std::string_view{},
                             upstream_,
                             scratch.request_id,
                             exchange_.client_ip(),
                             status_,
                             bytes_sent_,
                             duration,
                             runtime_.get(),
                             route_index_,
                             cluster_index_,
                             endpoint_index_,
                             cluster_name(),
                             rate_limit_,
                             policy_index_,
                             trace_ ? trace_->trace_id_hex() : std::string_view{},
                             exchange_.listener(),
                             exchange_.protocol()};
  for (RequestLogger* observer : worker_.observers) observer->on_log(record);
}

void StreamContext::finish_trace(Clock::time_point ended) {
  // http.route: the route's path template (a prefix route's as "prefix*").
  std::string_view http_route;
  bool prefix = false;
  if (route_) {
    const auto& match = route_->match;
    if (match.path_exact) {
      http_route = *match.path_exact;
    } else if (match.path_prefix) {
      http_route = *match.path_prefix;
      prefix = true;
    } else if (match.path_regex) {
      http_route = *match.path_regex;
    }
  }
  using core::trace::RateLimitDecision;
  constexpr RateLimitDecision kDecisions[] = {RateLimitDecision::None, RateLimitDecision::Allowed,
                                              RateLimitDecision::Limited, RateLimitDecision::Error};
  const StreamTrace::ServerOutcome outcome{status_,
                                           route_name(),
                                           http_route,
                                           prefix,
                                           cluster_name(),
                                           upstream_,
                                           kDecisions[static_cast<size_t>(rate_limit_)],
                                           answered_by_,
                                           status_ >= 500 ? error_.detail : std::string_view{}};
  trace_->finish(*worker_.spans, outcome, ended);
}

core::filter::RequestHeadEditor StreamContext::request() {
  return {request_, scratch_.arena};
}

void StreamContext::keep_sent_response(const core::http::ResponseHead& head) {
  core::filter::StringArena& arena = scratch_.arena;
  core::http::ResponseHead& kept = scratch_.sent_response;
  kept.status = head.status;
  kept.version_minor = head.version_minor;
  kept.framing = head.framing;
  kept.content_length = head.content_length;
  kept.keep_alive = head.keep_alive;
  kept.headers.assign(head.headers.begin(), head.headers.end());  // capacity reused
  // The head's bytes as the upstream sent them (HTTP/1) are copied in one block, and every view
  // into them moved onto the copy: field by field, the copies cost more than the bytes.
  const std::string_view wire = head.wire;
  char* const copy = wire.empty() ? nullptr : arena.take(wire.size());
  if (copy) std::memcpy(copy, wire.data(), wire.size());
  kept.wire = copy ? std::string_view(copy, wire.size()) : std::string_view{};
  const auto keep = [&](std::string_view& piece) {
    if (copy && core::filter::lies_within(piece, wire)) {
      piece = {copy + (piece.data() - wire.data()), piece.size()};
    } else {
      piece = kept_elsewhere(piece, arena);
    }
  };
  kept.reason = head.reason;
  keep(kept.reason);
  for (auto& field : kept.headers) {
    keep(field.name);
    keep(field.value);
  }
  response_ = &kept;
}

core::filter::ResponseHeadEditor StreamContext::response() {
  if (response_) return {*response_, scratch_.arena};
  // Outside the response hooks there is no head to edit: edits go nowhere.
  thread_local core::http::ResponseHead nowhere;
  nowhere.clear();
  return {nowhere, scratch_.arena};
}

std::string_view StreamContext::request_id() const {
  return scratch_.request_id;
}

std::string_view StreamContext::route_name() const {
  return route_ ? std::string_view(route_->name) : std::string_view{};
}

std::string_view StreamContext::cluster_name() const {
  return cluster_ ? std::string_view(cluster_->config->name) : std::string_view{};
}

std::chrono::system_clock::time_point StreamContext::start_time() const {
  // Derived when asked rather than read for every stream: most never are.
  const auto age = Clock::now() - started_;
  return std::chrono::system_clock::now() -
         std::chrono::duration_cast<std::chrono::system_clock::duration>(age);
}

std::string_view StreamContext::keep(std::string_view bytes) {
  return scratch_.arena.keep(bytes);
}

bool StreamContext::add_response_header(std::string_view name, std::string_view value) {
  return core::filter::HeaderEditor(response_extra_, scratch_.arena).add(name, value);
}

void StreamContext::respond(const core::filter::LocalResponse& response) {
  if (exchange_.response_started()) return;
  local_ = response;
  if (local_.status < 200 || local_.status > 599) local_.status = 500;
  status_ = local_.status;
  answer_ = Answer::Local;
  if (resume_signal_) resume_signal_->cancel();
}

void StreamContext::hold_until(ports::Awaitable<void> work) {
  held_work_.emplace(std::move(work));
  hold_ = Hold::Work;
}

void StreamContext::hold(std::chrono::milliseconds max_wait) {
  hold_deadline_ = Clock::now() + max_wait;
  hold_ = Hold::Callback;
}

void StreamContext::resume() {
  resumed_ = true;
  if (resume_signal_) resume_signal_->cancel();
}

std::unique_ptr<ports::FilterState>& StreamContext::state() {
  // Sized once for the stream's chains (the pre-route chain's slots come first).
  if (states_.size() <= current_slot_) {
    states_.resize(std::max(chain_->slot_end(), current_slot_ + 1));
  }
  return states_[current_slot_];
}

}  // namespace vx::proxy
