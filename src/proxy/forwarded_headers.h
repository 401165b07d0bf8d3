// Rewrites a request's header list for the upstream (SPEC.md §4): hop-by-hop fields removed,
// x-forwarded-for appended, x-forwarded-proto set, via appended, x-request-id kept or made.
// Per stream, on the worker's thread.
#pragma once

#include <string>
#include <string_view>

#include "core/http/message_head.h"
#include "core/ports/random.h"

namespace vx::proxy {

// The request's x-request-id when it brought one, else a new random 128-bit hex id written
// into `out` (cleared first). Called before routing so every log line carries an id.
std::string_view request_id_for(const core::http::RequestHead& head, std::string& out,
                                core::Random& random);

// New values are written into `scratch` (cleared first; its capacity is reused across
// requests) and the list points into it, so scratch must outlive the head's use.
// `request_id` is the one request_id_for() chose; it is added when the request had none.
void rewrite_forwarded_headers(core::http::RequestHead& head, std::string& scratch,
                               std::string_view client_ip, std::string_view request_id);

}  // namespace vx::proxy
