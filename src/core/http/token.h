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

// A non-empty run of tchar. Four lookups a step with no branch between them: a name is
// nearly always a token, so there is nothing to gain from stopping at the first bad byte.
constexpr bool is_token(std::string_view s) {
  if (s.empty()) return false;
  bool ok = true;
  size_t i = 0;
  for (; i + 4 <= s.size(); i += 4) {
    ok &= is_tchar(s[i]) & is_tchar(s[i + 1]) & is_tchar(s[i + 2]) & is_tchar(s[i + 3]);
  }
  for (; i < s.size(); ++i) ok &= is_tchar(s[i]);
  return ok;
}

}  // namespace vx::core::http
