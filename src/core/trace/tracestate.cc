#include "core/trace/tracestate.h"

#include <array>

namespace vx::core::trace {

namespace {

bool lcalpha(char c) {
  return c >= 'a' && c <= 'z';
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool key_char(char c) {
  return lcalpha(c) || digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

// simple-key = lcalpha 0*255(key_char)
// multi-tenant-key = tenant-id "@" system-id
//   tenant-id = (lcalpha / DIGIT) 0*240(key_char); system-id = lcalpha 0*13(key_char)
bool valid_key(std::string_view key) {
  const size_t at = key.find('@');
  if (at == std::string_view::npos) {
    if (key.empty() || key.size() > 256 || !lcalpha(key[0])) return false;
    for (char c : key) {
      if (!key_char(c)) return false;
    }
    return true;
  }
  const std::string_view tenant = key.substr(0, at);
  const std::string_view system = key.substr(at + 1);
  if (tenant.empty() || tenant.size() > 241 || !(lcalpha(tenant[0]) || digit(tenant[0]))) {
    return false;
  }
  if (system.empty() || system.size() > 14 || !lcalpha(system[0])) return false;
  for (char c : tenant) {
    if (!key_char(c)) return false;
  }
  for (char c : system) {
    if (!key_char(c)) return false;
  }
  return true;
}

// value = 0*255(chr) nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E; chr = %x20 / nblk-chr
bool valid_value(std::string_view value) {
  if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || c == ',' || c == '=') return false;
  }
  return true;
}

bool ows(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

bool valid_tracestate(std::span<const std::string_view> fields) {
  std::array<std::string_view, kMaxTraceStateMembers> keys;
  size_t members = 0;
  for (std::string_view field : fields) {
    while (!field.empty()) {
      const size_t comma = field.find(',');
      std::string_view member = field.substr(0, comma);
      field = comma == std::string_view::npos ? std::string_view{} : field.substr(comma + 1);
      while (!member.empty() && ows(member.front())) member.remove_prefix(1);
      while (!member.empty() && ows(member.back())) member.remove_suffix(1);
      if (member.empty()) continue;
      const size_t eq = member.find('=');
      if (eq == std::string_view::npos) return false;
      const std::string_view key = member.substr(0, eq);
      if (!valid_key(key) || !valid_value(member.substr(eq + 1))) return false;
      if (members == kMaxTraceStateMembers) return false;
      for (size_t i = 0; i < members; ++i) {
        if (keys[i] == key) return false;
      }
      keys[members++] = key;
    }
  }
  return true;
}

}  // namespace vx::core::trace
