// Header fields as views. A view's storage belongs to whoever produced it (a codec's read
// buffer, a connection's scratch); the contract of each producer says how long it lives.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace vx::core::http {

struct Header {
  std::string_view name;
  std::string_view value;
};

using HeaderList =
    std::vector<Header>;  // kept per connection and cleared, so its capacity is reused

inline char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Eight bytes lower-cased at once: only the bytes 'A'..'Z' change (bytes >= 0x80 are left
// alone), as ascii_lower would one at a time.
inline uint64_t ascii_lower8(uint64_t x) {
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t low7 = x & kLow7;
  const uint64_t above_z = low7 + 0x2525252525252525ULL;  // bit 7 set where low7 > 'Z'
  const uint64_t from_a = low7 + 0x3f3f3f3f3f3f3f3fULL;   // bit 7 set where low7 >= 'A'
  const uint64_t upper = (from_a ^ above_z) & ~x & kHigh;
  return x | (upper >> 2);
}

// Header names are compared on every field of every head: a word at a time, since a byte loop
// was a visible share of the proxy's own CPU.
inline bool iequals(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
  }
  auto word = [](const char* p) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return ascii_lower8(w);
  };
  for (size_t i = 0; i + 8 < n; i += 8) {
    if (word(a.data() + i) != word(b.data() + i)) return false;
  }
  return word(a.data() + n - 8) == word(b.data() + n - 8);  // the last 8, overlapping
}

// First value of `name` (case-insensitive), if any.
inline std::optional<std::string_view> find_header(const HeaderList& headers,
                                                   std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

// Calls fn(token) for each comma-separated token of a list-valued field (RFC 9110 §5.6.1),
// with surrounding whitespace removed and empty elements skipped.
template <typename Fn>
void for_each_token(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view token = list.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty()) fn(token);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// True when the comma-separated list contains `token` (case-insensitive).
inline bool list_contains(std::string_view list, std::string_view token) {
  bool found = false;
  for_each_token(list, [&](std::string_view t) { found = found || iequals(t, token); });
  return found;
}

}  // namespace vx::core::http
