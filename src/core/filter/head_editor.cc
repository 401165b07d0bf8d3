#include "core/filter/head_editor.h"

#include <cstdint>
#include <cstring>

#include "core/http/authority.h"
#include "core/http/token.h"

namespace vx::core::filter {

namespace {

bool is_framing_field(std::string_view name) {
  return http::iequals(name, "content-length") || http::iequals(name, "transfer-encoding");
}

template <class Word>
Word load(const char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// No byte of `w` is below 0x20 or 0x7f. May answer false for a word that is fine (a borrow
// across bytes), never true for one that is not.
bool plain_word(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101, kHigh = 0x8080808080808080;
  const uint64_t below_space = (w - 0x20 * kOnes) & ~w & kHigh;
  const uint64_t x = w ^ (0x7f * kOnes);
  const uint64_t del = (x - kOnes) & ~x & kHigh;
  return (below_space | del) == 0;
}

bool valid_bytes(std::string_view value) {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) return false;
  }
  return true;
}

}  // namespace

bool is_valid_field_value(std::string_view value) {
  // A word at a time, the last word overlapping the one before (a short value: two halves
  // overlapping), so that every byte is in a word and none is looked at alone: with no byte
  // below 0x20 (tab included) and none 0x7f, a word is fine. A value with a word that is not
  // (almost always one with a tab) is looked at byte by byte.
  const size_t n = value.size();
  const char* p = value.data();
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (!plain_word(load<uint64_t>(p + i))) return valid_bytes(value);
    }
    return plain_word(load<uint64_t>(p + n - 8)) || valid_bytes(value);
  }
  if (n >= 4) {
    const uint64_t halves = load<uint32_t>(p) | uint64_t{load<uint32_t>(p + n - 4)} << 32;
    return plain_word(halves) || valid_bytes(value);
  }
  return valid_bytes(value);
}

bool HeaderEditor::acceptable(std::string_view name, std::string_view value) {
  return http::is_token(name) && is_valid_field_value(value) && !is_framing_field(name);
}

bool HeaderEditor::set(std::string_view name, std::string_view value) {
  if (!acceptable(name, value)) return false;
  const http::Header field = copied(name, value);
  bool placed = false;
  size_t out = 0;
  for (size_t i = 0; i < headers_.size(); ++i) {
    if (!http::iequals(headers_[i].name, name)) {
      headers_[out++] = headers_[i];
    } else if (!placed) {
      headers_[out++] = field;
      placed = true;
    }
  }
  headers_.resize(out);
  if (!placed) headers_.push_back(field);
  return true;
}

bool HeaderEditor::add(std::string_view name, std::string_view value) {
  if (!acceptable(name, value)) return false;
  headers_.push_back(copied(name, value));
  return true;
}

http::Header HeaderEditor::copied(std::string_view name, std::string_view value) {
  // One piece of arena room for both (an acceptable name is never empty).
  char* at = arena_.take(name.size() + value.size());
  std::memcpy(at, name.data(), name.size());
  if (value.empty()) return {{at, name.size()}, {}};
  std::memcpy(at + name.size(), value.data(), value.size());
  return {{at, name.size()}, {at + name.size(), value.size()}};
}

size_t HeaderEditor::remove(std::string_view name) {
  const size_t before = headers_.size();
  std::erase_if(headers_, [&](const http::Header& h) { return http::iequals(h.name, name); });
  return before - headers_.size();
}

bool RequestHeadEditor::set_method(std::string_view method) {
  if (!http::is_token(method)) return false;
  head_.method = arena().keep(method);
  return true;
}

bool RequestHeadEditor::set_target(std::string_view target) {
  if (target.empty() || target.front() != '/') return false;
  for (char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '#') return false;
  }
  head_.target = arena().keep(target);
  return true;
}

bool RequestHeadEditor::set_authority(std::string_view authority) {
  if (authority.empty() || !http::is_valid_authority(authority)) return false;
  head_.authority = arena().keep(authority);
  for (auto& h : head_.headers) {
    if (http::iequals(h.name, "host")) h.value = head_.authority;
  }
  return true;
}

bool ResponseHeadEditor::set_status(uint16_t status) {
  if (status < 200 || status > 599) return false;
  head_.status = status;
  head_.reason = {};
  return true;
}

}  // namespace vx::core::filter
