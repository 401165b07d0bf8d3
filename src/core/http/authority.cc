#include "core/http/authority.h"

#include <cstdint>

namespace vx::core::http {

namespace {

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_reg_name_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':  // unreserved
    case '.':
    case '_':
    case '~':
    case '!':  // sub-delims
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

bool is_reg_name(std::string_view host) {
  for (size_t i = 0; i < host.size(); ++i) {
    if (host[i] == '%') {
      if (i + 2 >= host.size() || !is_hex(host[i + 1]) || !is_hex(host[i + 2])) return false;
      i += 2;
    } else if (!is_reg_name_char(host[i])) {
      return false;
    }
  }
  return true;
}

bool is_ip_literal(std::string_view bracketed) {
  // "[" IPv6address "]": its shape is checked here; whether it is a real address is the
  // resolver's business, and it never reaches one from a request.
  if (bracketed.size() < 4 || bracketed.front() != '[' || bracketed.back() != ']') return false;
  for (char c : bracketed.substr(1, bracketed.size() - 2)) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  return true;
}

bool is_port(std::string_view port) {
  if (port.size() > 5) return false;
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value <= 65535;
}

}  // namespace

bool is_valid_authority(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      has_port = true;
    }
    if (!is_ip_literal(host)) return false;
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (!is_reg_name(host)) return false;
  }
  return !has_port || is_port(port);
}

}  // namespace vx::core::http
