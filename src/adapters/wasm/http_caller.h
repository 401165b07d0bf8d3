// HttpCaller: how a plugin's proxy_http_call reaches a configured cluster. Implemented by the
// app over the worker's upstream pool and the running snapshot's clusters; one per worker, used
// on its thread.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http/header.h"

namespace vx::adapters::wasm {

class HttpCaller {
 public:
  struct Request {
    std::string method;
    std::string authority;
    std::string path;
    std::vector<std::pair<std::string, std::string>> headers;  // without pseudo-headers
    std::string body;
  };
  struct Response {
    uint16_t status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<std::pair<std::string, std::string>> trailers;
    std::string body;
  };
  using Done = std::function<void(std::optional<Response>)>;

  virtual ~HttpCaller() = default;
  // Sends `request` to an endpoint of `cluster` (its balancer picks) and calls `done` on this
  // worker's thread with the answer, or nullopt when it failed or took longer than `timeout`.
  // `done` runs exactly once, never from inside call(). False (and no `done`): no such cluster,
  // or a request the wire cannot carry (a bad method, path, authority or field).
  virtual bool call(std::string_view cluster, Request request, std::chrono::milliseconds timeout,
                    Done done) = 0;
};

}  // namespace vx::adapters::wasm
