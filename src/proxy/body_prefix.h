// BodyPrefix: the first bytes of a request body read before routing (SPEC.md: the AI model is
// the "model" field of a JSON body read up to 64 KiB, then forwarded unchanged). The bytes
// live in the stream's scratch; the request head is copied there first, since reading the body
// may reuse the buffer its views point into. One per stream, on the worker's thread.
#pragma once

#include <string_view>

#include "core/http/message_head.h"
#include "ports/awaitable_result.h"
#include "proxy/downstream_exchange.h"

namespace vx::proxy {

struct BodyPrefix {
  bool read = false;      // bytes were read ahead: send them before reading more
  bool complete = false;  // they are the whole body
  const core::http::HeaderList* trailers = nullptr;  // with complete, when the body had some
};

// Copies every view of `head` (method, authority, target, header names and values) into
// `storage` and points the head at the copies.
void pin_request_head(core::http::RequestHead& head, std::string& storage);

// Pins the head, then reads the body into scratch.body_prefix until its model is known, the
// body ends, or kModelSniffBytes were read. Returns the model ("" when the body names none);
// the view lives in scratch.body_prefix. Answers Expect: 100-continue first, since the client
// waits for it before sending the body. Errors are the body read's (413, client gone).
ports::AsyncResult<std::string_view> read_model_from_body(DownstreamExchange& exchange,
                                                          BodyPrefix& prefix);

}  // namespace vx::proxy
