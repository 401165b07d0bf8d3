// Protocol switches (RFC 9110 §7.8): whether an origin's 101 switches to a protocol the client
// asked for. A 101 nobody asked for, or to another protocol, would hand the client a raw
// tunnel past routing and filters, so it is refused. Pure.
#pragma once

#include <optional>
#include <string_view>

namespace vx::core::http {

// True when `answered` (the 101's Upgrade field) names exactly one protocol and it is in
// `requested` (the request's Upgrade list), compared case-insensitively as whole tokens:
// "websocket" matches "websocket", not "websocket/2".
bool upgrade_answer_matches(std::string_view requested, std::optional<std::string_view> answered);

}  // namespace vx::core::http
