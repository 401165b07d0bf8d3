// RFC 9110 §5.6.2 tokens: what a method or a field name may be made of. Pure.
#pragma once

#include <array>
#include <string_view>

namespace vx::core::http {

namespace detail {
// One lookup per byte: field names are checked for every header a filter or plugin sets.
constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();
}  // namespace detail

constexpr bool is_tchar(char c) {
  return detail::kTchar[static_cast<unsigned char>(c)];
}

// A non-empty run of tchar.
constexpr bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

}  // namespace vx::core::http
