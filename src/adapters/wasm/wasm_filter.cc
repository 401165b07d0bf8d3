#include "adapters/wasm/wasm_filter.h"

#include <algorithm>

#include "adapters/wasm/host_functions.h"
#include "core/filter/recycled.h"

namespace vx::adapters::wasm {

using core::filter::BodyStatus;
using core::filter::FilterStatus;
using core::filter::Hook;

namespace {

// The stream's context in its plugin instance; forgets it there if the stream ends without its
// log hook (a worker shutting down, or a guest with no stream-end callback to make). Made once
// per request: recycled.
struct StreamState final : ports::FilterState, core::filter::Recycled<StreamState> {
  std::shared_ptr<PluginInstance> instance;
  PluginInstance::Context* context = nullptr;
  bool finished = false;
  ~StreamState() override {
    if (instance && context && !finished) instance->forget_stream(*context);
  }
};

StreamState* state_of(ports::FilterStream& stream) {
  return static_cast<StreamState*>(stream.state().get());
}

// Only a guest that imports a host function reading headers can see the response head from its
// stream-end callbacks (a guest cannot call what it does not import): only for it is the head
// kept after it is sent.
bool guest_reads_headers(const PluginModule& m) {
  const auto& imports = m.module().imports();
  return std::any_of(imports.begin(), imports.end(),
                     [](const auto& i) { return reads_headers(i.module, i.name); });
}

constexpr std::string_view kFailed =
    R"({"error":"Internal Server Error","message":"wasm plugin failed"})";

}  // namespace

WasmFilter::WasmFilter(std::shared_ptr<PluginRuntime> runtime) : runtime_(std::move(runtime)) {
  const PluginModule& m = runtime_->module();
  hooks_ = Hook::RequestHead;
  if (m.abi() == core::config::WasmAbi::ProxyWasm) {
    // Only what the guest exports: a body callback makes the body rewritable, and then its
    // Content-Length cannot be trusted (docs/ports.md). Without a stream-end callback that does
    // something, the stream's context is closed with its state (StreamState), and the sent
    // response head need not be kept for the log hook.
    if (m.does_something("proxy_on_done") || m.does_something("proxy_on_log") ||
        m.does_something("proxy_on_delete")) {
      hooks_ = hooks_ | Hook::Log;
      if (guest_reads_headers(m)) hooks_ = hooks_ | Hook::LogResponseHead;
    }
    if (m.exports("proxy_on_request_body")) hooks_ = hooks_ | Hook::RequestBody;
    if (m.exports("proxy_on_response_headers")) hooks_ = hooks_ | Hook::ResponseHead;
    if (m.exports("proxy_on_response_body")) hooks_ = hooks_ | Hook::ResponseBody;
  }
}

bool WasmFilter::fail(ports::FilterStream& stream, Outcome outcome) const {
  runtime_->count(stream.worker_index(),
                  outcome == Outcome::Timeout ? CallResult::Timeout : CallResult::Trap);
  if (runtime_->module().fail_open()) return false;
  stream.respond({500, "application/json", kFailed});
  return true;
}

FilterStatus WasmFilter::decide(ports::FilterStream& stream, const PluginInstance::Context& context,
                                Outcome outcome) const {
  const unsigned worker = stream.worker_index();
  if (context.responded) {
    runtime_->count(worker, CallResult::Deny);
    return FilterStatus::Respond;
  }
  switch (outcome) {
    case Outcome::Continue:
      runtime_->count(worker, CallResult::Continue);
      return FilterStatus::Continue;
    case Outcome::Pause:
      // SPEC.md §3: a plugin that pauses and does not resume within max_call_ms denies (403).
      runtime_->count(worker, CallResult::Continue);
      stream.hold(runtime_->module().max_call());
      return FilterStatus::Hold;
    case Outcome::Trap:
    case Outcome::Timeout:
      return fail(stream, outcome) ? FilterStatus::Respond : FilterStatus::Continue;
  }
  return FilterStatus::Continue;
}

FilterStatus WasmFilter::on_request_head(ports::FilterStream& stream) const {
  if (runtime_->module().abi() == core::config::WasmAbi::Execute) return execute(stream);
  auto instance = runtime_->instance(stream.worker_index());
  if (!instance)
    return fail(stream, Outcome::Trap) ? FilterStatus::Respond : FilterStatus::Continue;
  auto state = std::make_unique<StreamState>();
  PluginInstance& plugin = *instance;
  state->instance = std::move(instance);
  const auto request = stream.request();
  const auto fields = static_cast<uint32_t>(request.fields().size() + 4);  // + pseudo-headers
  const bool end_of_stream = request.head().framing == core::http::BodyFraming::None;
  const auto opened = plugin.open_stream(stream, fields, end_of_stream);
  state->context = opened.context;
  stream.state() = std::move(state);
  return decide(stream, *opened.context, opened.outcome);
}

BodyStatus WasmFilter::on_request_body(ports::FilterStream& stream, core::filter::BodyBuffer& body,
                                       bool end_of_stream) const {
  StreamState* state = state_of(stream);
  if (!state || state->instance->broken()) return BodyStatus::Continue;
  const Outcome outcome = state->instance->on_request_body(*state->context, body, end_of_stream);
  if (state->context->responded) return BodyStatus::Respond;
  if (outcome == Outcome::Trap || outcome == Outcome::Timeout) {
    return fail(stream, outcome) ? BodyStatus::Respond : BodyStatus::Continue;
  }
  return outcome == Outcome::Pause ? BodyStatus::Buffer : BodyStatus::Continue;
}

FilterStatus WasmFilter::on_response_head(ports::FilterStream& stream) const {
  StreamState* state = state_of(stream);
  if (!state || state->instance->broken()) return FilterStatus::Continue;
  const auto response = stream.response();
  const uint32_t fields = static_cast<uint32_t>(response.fields().size() + 1);  // + :status
  const bool end_of_stream = response.head().framing == core::http::BodyFraming::None;
  const Outcome outcome =
      state->instance->on_response_headers(*state->context, fields, end_of_stream);
  return decide(stream, *state->context, outcome);
}

BodyStatus WasmFilter::on_response_body(ports::FilterStream& stream, core::filter::BodyBuffer& body,
                                        bool end_of_stream) const {
  StreamState* state = state_of(stream);
  if (!state || state->instance->broken()) return BodyStatus::Continue;
  const Outcome outcome = state->instance->on_response_body(*state->context, body, end_of_stream);
  if (outcome == Outcome::Trap || outcome == Outcome::Timeout) {
    // The head is out: the response goes on as it is, and the failure is counted.
    runtime_->count(stream.worker_index(),
                    outcome == Outcome::Timeout ? CallResult::Timeout : CallResult::Trap);
    return BodyStatus::Continue;
  }
  return outcome == Outcome::Pause ? BodyStatus::Buffer : BodyStatus::Continue;
}

void WasmFilter::on_log(ports::FilterStream& stream, const ports::StreamOutcome&) const {
  StreamState* state = state_of(stream);
  if (!state || state->finished) return;  // once: the context is recycled after it
  state->instance->finish_stream(*state->context);
  state->finished = true;
}

FilterStatus WasmFilter::execute(ports::FilterStream& stream) const {
  auto instance = runtime_->instance(stream.worker_index());
  const std::optional<int32_t> verdict = instance ? instance->execute() : std::nullopt;
  if (!verdict) {
    const Outcome outcome = instance && instance->timed_out() ? Outcome::Timeout : Outcome::Trap;
    return fail(stream, outcome) ? FilterStatus::Respond : FilterStatus::Continue;
  }
  if (*verdict == 200) {
    runtime_->count(stream.worker_index(), CallResult::Continue);
    return FilterStatus::Continue;
  }
  runtime_->count(stream.worker_index(), CallResult::Deny);
  stream.respond(
      {403, "application/json", R"({"error":"Forbidden","message":"denied by a wasm plugin"})"});
  return FilterStatus::Respond;
}

}  // namespace vx::adapters::wasm
