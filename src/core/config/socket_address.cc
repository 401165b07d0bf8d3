// Address grammar of SPEC.md §2: "host:port", IPv6 in brackets (RFC 3986 §3.2.2 style).
#include "core/config/socket_address.h"

#include <charconv>

namespace vx::core::config {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Counts the 16-bit groups of one side of "::" (possibly empty); -1 if malformed. An IPv4 tail
// counts as two groups and is allowed only where `allow_v4_tail`.
int count_v6_groups(std::string_view s, bool allow_v4_tail) {
  if (s.empty()) return 0;
  int groups = 0;
  size_t start = 0;
  while (true) {
    size_t colon = s.find(':', start);
    std::string_view group =
        s.substr(start, colon == std::string_view::npos ? s.npos : colon - start);
    bool last = colon == std::string_view::npos;
    if (last && allow_v4_tail && group.find('.') != std::string_view::npos) {
      if (!is_ipv4_literal(group)) return -1;
      return groups + 2;
    }
    if (group.empty() || group.size() > 4) return -1;
    for (char c : group) {
      if (!is_hex(c)) return -1;
    }
    ++groups;
    if (last) return groups;
    start = colon + 1;
  }
}

std::string bad(std::string_view text, std::string_view why) {
  return "bad address '" + std::string(text) + "': " + std::string(why);
}

}  // namespace

bool is_ipv4_literal(std::string_view s) {
  int parts = 0;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (part.empty() || part.size() > 3) return false;
    // A leading zero reads as octal in some resolvers; refuse the ambiguity.
    if (part.size() > 1 && part[0] == '0') return false;
    int value = 0;
    for (char c : part) {
      if (!is_digit(c)) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

bool is_ipv6_literal(std::string_view s) {
  if (s.size() < 2) return false;
  size_t gap = s.find("::");
  if (gap == std::string_view::npos) return count_v6_groups(s, true) == 8;
  if (s.find("::", gap + 1) != std::string_view::npos) return false;
  int left = count_v6_groups(s.substr(0, gap), false);
  int right = count_v6_groups(s.substr(gap + 2), true);
  return left >= 0 && right >= 0 && left + right <= 7;
}

bool is_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (is_alnum(c) || c == '-' || c == '_') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label > 0;
}

Result<SocketAddress, std::string> parse_socket_address(std::string_view text, HostKind kind) {
  SocketAddress out;
  out.text = std::string(text);
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return unexpected(bad(text, "expected host:port"));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (!is_ipv6_literal(host)) return unexpected(bad(text, "invalid IPv6 address"));
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return unexpected(bad(text, "expected host:port"));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return unexpected(bad(text, "expected host:port (write IPv6 addresses as [addr]:port)"));
    }
    bool ip = is_ipv4_literal(host);
    if (!ip) {
      if (kind == HostKind::IpLiteral) {
        return unexpected(
            bad(text, "expected host:port with an IP address host (e.g. 0.0.0.0 or [::])"));
      }
      if (!is_dns_name(host)) return unexpected(bad(text, "expected host:port"));
    }
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value < 1 ||
      value > 65535) {
    return unexpected(bad(text, "port must be 1..65535"));
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(value);
  return out;
}

}  // namespace vx::core::config
