// UpstreamHttpCaller: a Wasm plugin's proxy_http_call as a side call (proxy/side_call.h) to a
// cluster of the snapshot the worker runs now, over the worker's upstream pool. One per worker;
// called and answering on its thread.
#pragma once

#include "adapters/wasm/http_caller.h"
#include "proxy/worker_context.h"

namespace vx::app {

class UpstreamHttpCaller final : public adapters::wasm::HttpCaller {
 public:
  UpstreamHttpCaller(proxy::WorkerContext& worker, ports::Executor executor)
      : worker_(worker), executor_(executor) {}

  // adapters::wasm::HttpCaller
  bool call(std::string_view cluster, Request request, std::chrono::milliseconds timeout,
            Done done) override;

 private:
  proxy::WorkerContext& worker_;
  ports::Executor executor_;
};

}  // namespace vx::app
