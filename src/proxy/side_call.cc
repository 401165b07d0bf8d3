#include "proxy/side_call.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <string>

#include "core/filter/head_editor.h"
#include "core/http/hop_by_hop.h"
#include "proxy/upstream_target.h"

namespace vx::proxy {

using core::http::Error;
using core::http::ErrorKind;
using Clock = std::chrono::steady_clock;

core::Result<std::unique_ptr<PreparedSideRequest>, std::string> prepare_side_request(
    SideRequest request) {
  auto prepared = std::make_unique<PreparedSideRequest>();
  core::http::RequestHead& head = prepared->head;
  core::filter::RequestHeadEditor editor(head, prepared->arena);
  head.scheme = "http";
  head.headers.push_back({"host", ""});
  if (!editor.set_method(request.method)) return core::unexpected("bad :method");
  if (!editor.set_target(request.path)) return core::unexpected("bad :path");
  if (!editor.set_authority(request.authority)) return core::unexpected("bad :authority");
  for (const auto& [name, value] : request.headers) {
    if (core::http::iequals(name, "host") || core::http::iequals(name, "content-length") ||
        core::http::iequals(name, "transfer-encoding")) {
      continue;
    }
    if (!editor.add(name, value)) return core::unexpected("bad header '" + name + "'");
  }
  core::http::remove_hop_by_hop(head.headers, false);
  if (!request.body.empty()) {
    head.framing = core::http::BodyFraming::ContentLength;
    head.content_length = request.body.size();
    head.headers.push_back(
        {"content-length", prepared->arena.keep(std::to_string(request.body.size()))});
  }
  prepared->body = std::move(request.body);
  return prepared;
}

ports::AsyncResult<SideResponse> side_call(WorkerContext& worker, const Runtime& runtime,
                                           std::string_view cluster_name,
                                           const PreparedSideRequest& request,
                                           std::chrono::milliseconds timeout) {
  const ClusterRuntime* cluster = nullptr;
  for (const auto& c : runtime.clusters()) {
    if (c.config->name == cluster_name) cluster = &c;
  }
  if (!cluster) co_return core::unexpected(Error{ErrorKind::NoEndpoint, "no such cluster"});
  auto active = cluster->balancer->pick({Clock::now(), worker.random, {}, nullptr});
  if (!active) co_return core::unexpected(Error{ErrorKind::NoEndpoint, "no endpoint"});
  const size_t index = index_of_endpoint(*cluster, active->endpoint());
  const ports::UpstreamTarget target = upstream_target(*cluster, index);

  // One deadline for the whole call: past it the stream's waits are cancelled.
  boost::asio::steady_timer deadline(co_await boost::asio::this_coro::executor);
  deadline.expires_after(timeout);
  ports::UpstreamStream* watched = nullptr;
  bool expired = false;
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    expired = true;
    if (watched) watched->cancel();
  });
  auto fail = [&](Error error) -> core::Result<SideResponse, Error> {
    active->finish(error.source() == core::http::ErrorSource::Upstream ? core::lb::Outcome::Failure
                                                                       : core::lb::Outcome::Success,
                   Clock::now());
    deadline.cancel();
    if (expired) error = {ErrorKind::UpstreamTimeout, "side call timed out"};
    return core::unexpected(error);
  };

  core::Result<ports::UpstreamLease, Error> lease = worker.pool.take_idle(target);
  if (!*lease) lease = co_await worker.pool.acquire(target, false);
  if (!lease) co_return fail(lease.error());
  ports::UpstreamStream& upstream = **lease;
  watched = &upstream;
  if (expired) co_return fail({ErrorKind::UpstreamTimeout, "side call timed out"});

  if (auto sent = upstream.send_head(request.head); !sent) co_return fail(sent.error());
  if (!request.body.empty()) {
    const std::string_view body = request.body;
    auto sent = co_await upstream.send_body({{&body, 1}, true});
    if (!sent) co_return fail(sent.error());
  }

  SideResponse response;
  bool keep_alive = false;
  for (;;) {
    auto head_received = co_await upstream.recv_head();
    if (!head_received) co_return fail(head_received.error());
    const core::http::ResponseHead& answer = **head_received;
    if (answer.status < 200) continue;  // interim answers are not the call's
    response.status = answer.status;
    keep_alive = answer.keep_alive;
    for (const auto& h : answer.headers) response.headers.emplace_back(h.name, h.value);
    break;
  }
  for (;;) {
    auto chunk = co_await upstream.recv_body();
    if (!chunk) co_return fail(chunk.error());
    for (auto piece : chunk->pieces) response.body.append(piece);
    if (response.body.size() > kMaxSideCallBodyBytes) {
      co_return fail({ErrorKind::UpstreamBadResponse, "side call answer too large"});
    }
    if (chunk->last) {
      if (chunk->trailers) {
        for (const auto& h : *chunk->trailers) response.trailers.emplace_back(h.name, h.value);
      }
      break;
    }
  }
  deadline.cancel();
  active->finish(response.status >= 500 ? core::lb::Outcome::Failure : core::lb::Outcome::Success,
                 Clock::now());
  lease->reset(keep_alive);
  co_return response;
}

}  // namespace vx::proxy
