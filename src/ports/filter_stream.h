// FilterStream: what a filter sees of the stream it runs on, and what it may do to it.
// Implemented by the pipeline (proxy::StreamContext); one per request, used on its worker's
// thread only. The whole contract, phase by phase, is in docs/ports.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/filter/head_editor.h"
#include "core/filter/local_response.h"
#include "ports/awaitable_result.h"

namespace vx::ports {

// What a filter keeps about one stream between its hooks (FilterStream::state()).
class FilterState {
 public:
  virtual ~FilterState() = default;
};

// Where a request came from and arrived, and how (Proxy-Wasm properties, traces).
struct ConnectionFacts {
  std::string_view client_ip;
  uint16_t client_port = 0;
  std::string_view local_ip;
  uint16_t local_port = 0;
  std::string_view listener;  // the configured listener's name
  std::string_view protocol;  // "HTTP/1.0", "HTTP/1.1", "HTTP/2"
};

// How the stream ended, for on_log.
struct StreamOutcome {
  uint16_t status = 0;  // the status sent (499: the client left first)
  uint64_t bytes_sent = 0;
  std::chrono::nanoseconds duration{0};
  std::string_view upstream;  // endpoint address of the last attempt; empty when none
};

class FilterStream {
 public:
  // The request head as it will be forwarded. Editable in on_request_head; from the first
  // request body hook on it has gone upstream and edits change nothing.
  virtual core::filter::RequestHeadEditor request() = 0;
  // The upstream's response head, editable in on_response_head (before it is sent). Only valid
  // in the response hooks, and in on_log (as sent, read only) for a filter that declares
  // Hook::LogResponseHead.
  virtual core::filter::ResponseHeadEditor response() = 0;

  virtual std::string_view client_ip() const = 0;
  virtual bool tls() const = 0;
  virtual std::string_view request_id() const = 0;
  virtual std::string_view route_name() const = 0;    // "" before routing
  virtual std::string_view cluster_name() const = 0;  // "" before routing or without a cluster
  virtual ConnectionFacts connection() const = 0;
  // The worker the stream runs on (0-based): where a filter keeps per-worker state.
  virtual unsigned worker_index() const = 0;
  // When the request's head arrived (wall clock, for reports).
  virtual std::chrono::system_clock::time_point start_time() const = 0;

  // A copy of `bytes` that lives as long as the stream (for LocalResponse, say).
  virtual std::string_view keep(std::string_view bytes) = 0;
  // A field for whatever answer the stream gives from now on: the upstream's response head or
  // a filter's local response (not the pipeline's own error answers). Refuses what a head
  // editor refuses.
  virtual bool add_response_header(std::string_view name, std::string_view value) = 0;

  // Answers locally instead of going on; the hook then returns Respond (or, while the stream
  // is held, the pipeline answers at once). Valid until the first response byte went out; later
  // calls are ignored. A status outside 200..599 becomes 500.
  virtual void respond(const core::filter::LocalResponse& response) = 0;

  // Holding: a hook that must wait for something returns Hold after calling one of these.
  //  - hold_until(work): the pipeline awaits `work` in place (a lookup on the worker's loop),
  //    then goes on with the next filter, or answers if `work` called respond().
  //  - hold(max_wait): someone (a callback of the filter) calls resume() or respond() later; if
  //    neither comes within max_wait the stream is answered 403 (SPEC.md §3: a filter that
  //    never resumes denies).
  virtual void hold_until(Awaitable<void> work) = 0;
  virtual void hold(std::chrono::milliseconds max_wait) = 0;
  virtual void resume() = 0;

  // The calling filter's own per-stream slot (empty at the stream's start; destroyed with it).
  virtual std::unique_ptr<FilterState>& state() = 0;

 protected:
  ~FilterStream() = default;
};

}  // namespace vx::ports
