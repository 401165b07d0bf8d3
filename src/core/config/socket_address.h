// Parsing and checking of "host:port" addresses and host names written in the config.
// Pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/config/config.h"
#include "core/result.h"

namespace vx::core::config {

enum class HostKind : uint8_t {
  IpLiteral,  // listeners, metrics: an address to bind ("0.0.0.0", "127.0.0.1", "[::]")
  IpOrName,   // endpoints, redis: also a DNS name resolved later
};

// Accepts "host:port" with host an IPv4 literal, a bracketed IPv6 literal ("[::1]:80") or, for
// HostKind::IpOrName, a DNS name; port 1..65535. SocketAddress::host holds the IPv6 literal
// without brackets. Refuses anything else with "bad address 'TEXT': expected host:port" or a
// more precise reason.
Result<SocketAddress, std::string> parse_socket_address(std::string_view text, HostKind kind);

bool is_ipv4_literal(std::string_view s);
bool is_ipv6_literal(std::string_view s);  // without brackets, no zone id
// Labels of letters, digits, '-' and '_', separated by single dots; at most 253 characters.
bool is_dns_name(std::string_view s);

}  // namespace vx::core::config
