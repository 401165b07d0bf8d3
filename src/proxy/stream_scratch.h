// StreamScratch: per-stream storage the pipeline writes into (rewritten header values, what the
// access log needs after the head's views are gone, what filters keep). Owned by the exchange
// and reused stream after stream, so a warm connection allocates nothing here.
#pragma once

#include <string>

#include "core/filter/string_arena.h"
#include "core/http/header.h"
#include "core/http/message_head.h"
#include "proxy/filter_chain.h"
#include "proxy/stream_trace.h"

namespace vx::proxy {

struct StreamScratch {
  std::string forwarded;    // values of x-forwarded-for, via, x-request-id sent upstream
  std::string path;         // the request target, for the log
  std::string request_id;   // the id in effect, for the log
  std::string head;         // the request head's bytes when it must outlive the first body read
  std::string body_prefix;  // body bytes read ahead of routing (the AI model in a JSON body)
  core::filter::StringArena arena;         // what filters set (header values, local answers)
  core::http::HeaderList response_extra;   // fields every answer of the stream carries
  core::http::ResponseHead sent_response;  // the response head as sent, for the log hooks
  BodyFilterRun request_body;              // the body filters' runs, when the route has some
  BodyFilterRun response_body;
  StreamTrace trace;  // the stream's trace context and SERVER span, when tracing is on

  // Bytes of memory held (what keeping the scratch between streams costs).
  size_t capacity() const {
    return forwarded.capacity() + path.capacity() + request_id.capacity() + head.capacity() +
           body_prefix.capacity() + arena.capacity() +
           (response_extra.capacity() + sent_response.headers.capacity()) *
               sizeof(core::http::Header) +
           request_body.capacity() + response_body.capacity();
  }
  void clear() {
    forwarded.clear();
    path.clear();
    request_id.clear();
    head.clear();
    body_prefix.clear();
    arena.clear();
    response_extra.clear();
    sent_response.clear();
  }
};

}  // namespace vx::proxy
