// WasmFilter: a Wasm plugin as one step of a route's filter chain (SPEC.md §2
// routes[].plugins). proxy_wasm plugins get a stream context per request and the callbacks
// they export; execute plugins one `execute` call per request (200 lets it on, anything else
// is the SPEC 403). A trap or a timeout fails the request with 500 unless the plugin is
// fail_open. Immutable; shared by every worker (each runs its own instance of the plugin).
#pragma once

#include <memory>

#include "adapters/wasm/plugin_runtime.h"
#include "ports/http_filter.h"

namespace vx::adapters::wasm {

class WasmFilter final : public ports::HttpFilter {
 public:
  explicit WasmFilter(std::shared_ptr<PluginRuntime> runtime);

  std::string_view name() const override { return runtime_->module().name(); }
  core::filter::HookSet hooks() const override { return hooks_; }
  core::filter::FilterStatus on_request_head(ports::FilterStream& stream) const override;
  core::filter::BodyStatus on_request_body(ports::FilterStream& stream,
                                           core::filter::BodyBuffer& body,
                                           bool end_of_stream) const override;
  core::filter::FilterStatus on_response_head(ports::FilterStream& stream) const override;
  core::filter::BodyStatus on_response_body(ports::FilterStream& stream,
                                            core::filter::BodyBuffer& body,
                                            bool end_of_stream) const override;
  void on_log(ports::FilterStream& stream, const ports::StreamOutcome& outcome) const override;

 private:
  core::filter::FilterStatus execute(ports::FilterStream& stream) const;
  // What a head callback's outcome means for the stream.
  core::filter::FilterStatus decide(ports::FilterStream& stream,
                                    const PluginInstance::Context& context, Outcome outcome) const;
  // The guest failed: 500, or on with the request when the plugin is fail_open.
  bool fail(ports::FilterStream& stream, Outcome outcome) const;

  std::shared_ptr<PluginRuntime> runtime_;
  core::filter::HookSet hooks_;
};

}  // namespace vx::adapters::wasm
