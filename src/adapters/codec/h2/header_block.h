// HeaderBlock: one decoded HTTP/2 header block (pseudo-headers included) in one owned buffer.
// nghttp2 hands name/value pairs out only for the duration of a callback; the session copies
// them here and the stream that receives the block owns it. Plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/header.h"

namespace vx::adapters::h2 {

struct HeaderBlock {
  struct Field {
    uint32_t name_at, name_size, value_at, value_size;
  };
  std::string bytes;
  std::vector<Field> fields;
  // The block was over the session's header limits: its fields were decoded (HPACK must stay
  // in step) but not kept, and the stream is answered 431.
  bool too_large = false;

  void add(std::string_view name, std::string_view value) {
    const auto at = static_cast<uint32_t>(bytes.size());
    bytes.append(name);
    bytes.append(value);
    fields.push_back({at, static_cast<uint32_t>(name.size()),
                      static_cast<uint32_t>(at + name.size()),
                      static_cast<uint32_t>(value.size())});
  }
  void clear() {
    bytes.clear();
    fields.clear();
    too_large = false;
  }
  std::string_view name(const Field& f) const { return {bytes.data() + f.name_at, f.name_size}; }
  std::string_view value(const Field& f) const { return {bytes.data() + f.value_at, f.value_size}; }
  // The first value of `name` (exact, lower case as HTTP/2 requires), or empty.
  std::string_view find(std::string_view lower_name) const {
    for (const Field& f : fields) {
      if (name(f) == lower_name) return value(f);
    }
    return {};
  }
  // Regular (non-pseudo) fields as views into this block, appended to `out`.
  void regular_fields(core::http::HeaderList& out) const {
    for (const Field& f : fields) {
      if (f.name_size > 0 && bytes[f.name_at] != ':') out.push_back({name(f), value(f)});
    }
  }
};

}  // namespace vx::adapters::h2
