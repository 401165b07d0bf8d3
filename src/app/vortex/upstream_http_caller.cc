#include "app/vortex/upstream_http_caller.h"

#include "ports/guarded_spawn.h"
#include "proxy/side_call.h"

namespace vx::app {

namespace {

ports::Awaitable<void> call_and_answer(proxy::WorkerContext& worker,
                                       std::shared_ptr<const proxy::Runtime> runtime,
                                       std::string cluster,
                                       std::unique_ptr<proxy::PreparedSideRequest> request,
                                       std::chrono::milliseconds timeout,
                                       adapters::wasm::HttpCaller::Done done) {
  // `runtime` keeps the cluster (its balancer, its addresses) alive for the whole call.
  auto answer = co_await proxy::side_call(worker, *runtime, cluster, *request, timeout);
  if (!answer) {
    done(std::nullopt);
    co_return;
  }
  adapters::wasm::HttpCaller::Response response;
  response.status = answer->status;
  response.headers = std::move(answer->headers);
  response.trailers = std::move(answer->trailers);
  response.body = std::move(answer->body);
  done(std::move(response));
}

}  // namespace

bool UpstreamHttpCaller::call(std::string_view cluster, Request request,
                              std::chrono::milliseconds timeout, Done done) {
  std::shared_ptr<const proxy::Runtime> runtime = worker_.runtime.get();
  bool known = false;
  for (const auto& c : runtime->clusters()) known = known || c.config->name == cluster;
  if (!known) return false;
  auto side = proxy::prepare_side_request({std::move(request.method), std::move(request.authority),
                                           std::move(request.path), std::move(request.headers),
                                           std::move(request.body)});
  if (!side) return false;
  // Spawned, so `done` never runs inside this call (the guest is still in proxy_http_call).
  ports::spawn_guarded(executor_,
                       call_and_answer(worker_, std::move(runtime), std::string(cluster),
                                       std::move(*side), timeout, std::move(done)),
                       ports::TaskKind::SideCall);
  return true;
}

}  // namespace vx::app
