// StreamContext: everything about one request on its way through the pipeline (route, cluster,
// attempt, timings, the answer it owes, its log record), built once when the stream starts and
// passed to every phase and filter. It is the FilterStream filters see. One per stream, on the
// worker's thread; it lives in the pipeline's coroutine frame.
//
// Invariants:
//  1. finish() runs exactly once per stream, on every path: it is the single exit that writes
//     the log record, counts, and calls every on_log hook.
//  2. At most one answer is owed at a time (a local response or an error); respond() and
//     fail() after the first response byte change only what the log says.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/filter/filter_status.h"
#include "core/http/error.h"
#include "ports/filter_stream.h"
#include "proxy/body_prefix.h"
#include "proxy/downstream_exchange.h"
#include "proxy/filter_chain.h"
#include "proxy/request_logger.h"
#include "proxy/runtime.h"
#include "proxy/stream_trace.h"
#include "proxy/worker_context.h"

namespace vx::proxy {

class StreamContext final : public ports::FilterStream {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes the worker's current Runtime (kept until the stream ends), the request id (given or
  // made) and what the log needs of the head before its views die.
  StreamContext(DownstreamExchange& exchange, WorkerContext& worker);
  StreamContext(const StreamContext&) = delete;
  StreamContext& operator=(const StreamContext&) = delete;

  // The pipeline's own (built-in) filters see the whole stream: every FilterStream they are
  // handed is a StreamContext, the only implementation.
  static StreamContext& of(ports::FilterStream& stream) {
    return static_cast<StreamContext&>(stream);
  }

  DownstreamExchange& exchange() { return exchange_; }
  WorkerContext& worker() { return worker_; }
  const Runtime& runtime() const { return *runtime_; }
  core::http::RequestHead& request_head() { return request_; }
  StreamScratch& scratch() { return scratch_; }
  Clock::time_point started() const { return started_; }

  // Phase "route". The AI model routing matches on (x-ai-model, or what a pre-route filter
  // found in the body; the view must live as long as the stream).
  std::string_view ai_model() const { return ai_model_; }
  void set_ai_model(std::string_view model) { ai_model_ = model; }
  // Matches the request against the route table; false when no route matches (the stream then
  // owes a 404).
  bool select_route();
  const core::config::Route* route() const { return route_; }
  // The route's chain (empty before routing).
  const FilterChain& filters() const { return *chain_; }
  // Body bytes read before routing (the AI model); the pump sends them first.
  BodyPrefix& body_prefix() { return prefix_; }

  // Phase "upstream attempts".
  void set_cluster(const ClusterRuntime& cluster);
  const ClusterRuntime* cluster() const { return cluster_; }
  void set_endpoint(size_t index, std::string_view address);
  // The response head the response hooks see and edit (null outside them).
  void set_response(core::http::ResponseHead* head) { response_ = head; }
  // The log hooks read the response head as it was sent. The upstream's buffer that holds it is
  // reused once the response is relayed, so they read a copy (kept in the stream's scratch, so
  // a warm connection allocates nothing for it); only routes with log hooks pay for it.
  void keep_sent_response(const core::http::ResponseHead& head);
  // Fields every answer of the stream carries (add_response_header; the rate limit's
  // RateLimit-* fields).
  const core::http::HeaderList& response_extra() const { return response_extra_; }

  // The log record's facts.
  void set_status(uint16_t status) { status_ = status; }
  uint16_t status() const { return status_; }
  void add_bytes_sent(uint64_t n) { bytes_sent_ += n; }
  void record_rate_limit(RateLimitOutcome outcome, uint32_t policy_index) {
    rate_limit_ = outcome;
    policy_index_ = policy_index;
    if (outcome == RateLimitOutcome::Limited) trace_event(core::trace::SpanEventKind::RateLimited);
  }

  // Tracing (docs/tracing.md): null when tracing is off for this stream's Runtime.
  StreamTrace* trace() { return trace_; }
  void trace_event(core::trace::SpanEventKind kind) {
    if (trace_ && trace_->sampled()) trace_->event(kind, Clock::now());
  }

  // The answer the stream owes. fail(): SPEC.md §3's answer for `error`, or none when the
  // client is gone (logged 499, nginx's "client closed request").
  void fail(const core::http::Error& error);
  bool answer_pending() const { return answer_ != Answer::None; }
  // Sends the pending answer (nothing when bytes already went out: the codec then aborts).
  ports::Awaitable<void> send_answer();

  // Filters: runs the head hook `hook` of chain's filters, starting at filter `from`. Continue
  // when all continued; Respond when the stream now owes an answer; Hold when filter
  // held_filter() holds it (await resume_after_hold()).
  core::filter::FilterStatus run_head_hooks(const FilterChain& chain, core::filter::Hook hook,
                                            size_t from = 0);
  // Waits for the held filter, then runs the rest of the chain's hooks (holding again as often
  // as they ask). Returns Continue or Respond.
  ports::Awaitable<core::filter::FilterStatus> resume_after_hold(const FilterChain& chain,
                                                                 core::filter::Hook hook);
  // The body hooks of one direction, run by the pump and the relay; null when the route has
  // none in that direction (the zero-copy path).
  BodyFilterRun* request_body_filters() { return request_body_; }
  BodyFilterRun* response_body_filters() { return response_body_; }
  // The filter whose hook runs now (FilterStream::state()'s slot).
  void enter_filter(size_t slot) { current_slot_ = slot; }

  // The single exit (invariant 1). `ended`: a time already read at the end, if any.
  void finish(std::optional<Clock::time_point> ended = std::nullopt);

  // ports::FilterStream
  core::filter::RequestHeadEditor request() override;
  core::filter::ResponseHeadEditor response() override;
  std::string_view client_ip() const override { return exchange_.client_ip(); }
  bool tls() const override { return exchange_.tls(); }
  std::string_view request_id() const override;
  std::string_view route_name() const override;
  std::string_view cluster_name() const override;
  ports::ConnectionFacts connection() const override { return exchange_.connection_facts(); }
  std::chrono::system_clock::time_point start_time() const override;
  unsigned worker_index() const override { return worker_.index; }
  std::string_view keep(std::string_view bytes) override;
  bool add_response_header(std::string_view name, std::string_view value) override;
  void respond(const core::filter::LocalResponse& response) override;
  void hold_until(ports::Awaitable<void> work) override;
  void hold(std::chrono::milliseconds max_wait) override;
  void resume() override;
  std::unique_ptr<ports::FilterState>& state() override;

 private:
  enum class Answer : uint8_t { None, Local, Error };
  enum class Hold : uint8_t { None, Work, Callback };
  using Timer =
      boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, ports::Executor>;

  // Records the SERVER span (sampled streams only).
  void finish_trace(Clock::time_point ended);
  // Waits for the hold the last hook asked for; Continue, or Respond when an answer is owed.
  ports::Awaitable<core::filter::FilterStatus> wait_held();

  DownstreamExchange& exchange_;
  // The exchange's, found once: filters and host calls reach them several times a request.
  core::http::RequestHead& request_;
  StreamScratch& scratch_;
  WorkerContext& worker_;
  const std::shared_ptr<const Runtime> runtime_;
  const Clock::time_point started_;
  std::string_view method_;  // codecs hand out static method names

  std::string_view ai_model_;
  const core::config::Route* route_ = nullptr;
  const FilterChain* chain_;
  uint32_t route_index_ = kNoIndex;
  BodyPrefix prefix_;
  const ClusterRuntime* cluster_ = nullptr;
  uint32_t cluster_index_ = kNoIndex;
  uint32_t endpoint_index_ = kNoIndex;
  std::string_view upstream_;
  core::http::ResponseHead* response_ = nullptr;
  core::http::ResponseHead no_response_;    // what response() edits outside the response hooks
  core::http::HeaderList& response_extra_;  // the exchange's scratch: capacity reused

  uint16_t status_ = 0;
  uint64_t bytes_sent_ = 0;
  RateLimitOutcome rate_limit_ = RateLimitOutcome::None;
  uint32_t policy_index_ = kNoIndex;
  bool finished_ = false;
  StreamTrace* trace_ = nullptr;  // in the exchange's scratch
  std::string_view answered_by_;  // the name of the filter that answered locally

  Answer answer_ = Answer::None;
  core::filter::LocalResponse local_;
  core::http::Error error_;

  Hold hold_ = Hold::None;
  bool resumed_ = false;
  std::optional<ports::Awaitable<void>> held_work_;
  Clock::time_point hold_deadline_;
  std::optional<Timer> resume_signal_;
  size_t held_index_ = 0;  // the chain position of the filter that holds
  size_t current_slot_ = 0;
  // Filters' per-stream states: a stream made one allocation for these when a filter kept any
  // (a Wasm plugin does, every request); routes rarely have more filters than this.
  boost::container::small_vector<std::unique_ptr<ports::FilterState>, 8> states_;
  BodyFilterRun* request_body_ = nullptr;  // in the exchange's scratch: memory reused
  BodyFilterRun* response_body_ = nullptr;
};

}  // namespace vx::proxy
