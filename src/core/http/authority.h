// The authority a request names (Host, :authority): RFC 9110 §4.2.3 / RFC 3986 §3.2 without
// userinfo, which HTTP forbids in a request's authority (RFC 9110 §4.2.4). Routing matches on
// it and the upstream sees it, so anything else is refused rather than guessed. Pure.
#pragma once

#include <string_view>

namespace vx::core::http {

// host [ ":" port ]: host is a reg-name (unreserved, sub-delims, pct-encoded), an IPv4 address
// (a reg-name too) or a bracketed IPv6 literal; port is at most five digits up to 65535.
// Refuses userinfo ('@'), spaces and control bytes, '/', '?', '#', '\', a second ':' outside
// brackets, bad percent-encoding. The empty authority is valid (RFC 9112 §3.2: a Host field
// may be empty); callers that need one check for it.
bool is_valid_authority(std::string_view authority);

}  // namespace vx::core::http
