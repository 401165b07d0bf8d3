// A request a filter makes on its own to one of the snapshot's clusters (a Proxy-Wasm HTTP
// call, an auth lookup), over the worker's upstream pool: the cluster's balancer picks the
// endpoint and learns the outcome, and the whole answer is collected, bounded. On the worker's
// thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/filter/string_arena.h"
#include "core/http/message_head.h"
#include "core/result.h"
#include "ports/awaitable_result.h"
#include "proxy/runtime.h"
#include "proxy/worker_context.h"

namespace vx::proxy {

struct SideRequest {
  std::string method;
  std::string authority;
  std::string path;
  // Host, the framing fields and hop-by-hop ones are dropped: the call sets its own.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// A SideRequest as it goes on the wire, checked (prepare_side_request).
struct PreparedSideRequest {
  core::filter::StringArena arena;  // what head's views point at
  core::http::RequestHead head;
  std::string body;
};

// Checks `request` as a filter's head edits are checked (core/filter/head_editor.h): the method
// a token, the path origin-form, the authority valid, every field name a token and value
// without CR, LF or other control bytes. Refuses with what is wrong.
core::Result<std::unique_ptr<PreparedSideRequest>, std::string> prepare_side_request(
    SideRequest request);

struct SideResponse {
  uint16_t status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> trailers;
  std::string body;
};

// An answer's body is collected up to this; past it the call fails (UpstreamBadResponse).
inline constexpr size_t kMaxSideCallBodyBytes = 1 << 20;

// Sends `request` to `cluster` of `runtime` and collects the answer within `timeout` (connecting
// included). Errors: NoEndpoint (no such cluster, or none available), the upstream's own, or
// UpstreamTimeout. `runtime` must outlive the call.
ports::AsyncResult<SideResponse> side_call(WorkerContext& worker, const Runtime& runtime,
                                           std::string_view cluster,
                                           const PreparedSideRequest& request,
                                           std::chrono::milliseconds timeout);

}  // namespace vx::proxy
