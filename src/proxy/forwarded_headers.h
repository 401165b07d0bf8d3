// Rewrites a request's header list for the upstream (SPEC.md §4): hop-by-hop fields removed,
// x-forwarded-for appended, x-forwarded-proto set, via appended, x-request-id kept or made.
// Per stream, on the worker's thread.
#pragma once

#include <string>
#include <string_view>

#include "core/http/message_head.h"
#include "core/ports/random.h"

namespace vx::proxy {

// New values are written into `scratch` (cleared first; its capacity is reused across
// requests) and the list points into it, so scratch must outlive the head's use. Returns the
// request id in effect (a view of the head or of scratch).
std::string_view rewrite_forwarded_headers(core::http::RequestHead& head, std::string& scratch,
                                           std::string_view client_ip, core::Random& random);

}  // namespace vx::proxy
