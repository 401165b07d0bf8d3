#include "core/trace/trace_context.h"

#include <cstring>

namespace vx::core::trace {

namespace {

// Two hex digits per byte from one table load: ids are written on every traced request.
constexpr auto kHexPairs = [] {
  constexpr char digits[] = "0123456789abcdef";
  std::array<std::array<char, 2>, 256> pairs{};
  for (size_t i = 0; i < 256; ++i) pairs[i] = {digits[i >> 4], digits[i & 0xf]};
  return pairs;
}();

// Lower-case hex only: §3.2.2 allows no upper case ("HEXDIGLC").
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool parse_hex(std::string_view text, uint8_t* out) {
  for (size_t i = 0; i < text.size(); i += 2) {
    const int high = hex_value(text[i]);
    const int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0) return false;
    out[i / 2] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

void write_hex(const uint8_t* bytes, size_t n, char* out) {
  for (size_t i = 0; i < n; ++i) std::memcpy(out + 2 * i, kHexPairs[bytes[i]].data(), 2);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <size_t N>
bool all_zero(const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

// REQUIRES: n is a multiple of 8 (ids are 8 or 16 bytes).
void fill_random(uint8_t* out, size_t n, Random& random) {
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t word = random.next();
    std::memcpy(out + i, &word, 8);
  }
}

}  // namespace

bool TraceId::valid() const {
  return !all_zero(bytes);
}
bool SpanId::valid() const {
  return !all_zero(bytes);
}

std::optional<TraceParent> parse_traceparent(std::string_view value) {
  value = trim(value);
  if (value.size() < kTraceParentSize) return std::nullopt;
  uint8_t version = 0;
  if (!parse_hex(value.substr(0, 2), &version) || version == 0xff) return std::nullopt;
  if (version == 0 && value.size() != kTraceParentSize) return std::nullopt;
  // §3.2.4: a later version may append fields, after a dash.
  if (value.size() > kTraceParentSize && value[kTraceParentSize] != '-') return std::nullopt;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  TraceParent parsed;
  if (!parse_hex(value.substr(3, 32), parsed.trace_id.bytes.data()) ||
      !parse_hex(value.substr(36, 16), parsed.parent_id.bytes.data()) ||
      !parse_hex(value.substr(53, 2), &parsed.flags)) {
    return std::nullopt;
  }
  if (!parsed.trace_id.valid() || !parsed.parent_id.valid()) return std::nullopt;
  return parsed;
}

void format_traceparent(const TraceId& trace, const SpanId& span, uint8_t flags, char* out) {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  write_hex(trace.bytes.data(), trace.bytes.size(), out + 3);
  out[35] = '-';
  write_hex(span.bytes.data(), span.bytes.size(), out + 36);
  out[52] = '-';
  write_hex(&flags, 1, out + 53);
}

void to_hex(const TraceId& id, char* out) {
  write_hex(id.bytes.data(), id.bytes.size(), out);
}
void to_hex(const SpanId& id, char* out) {
  write_hex(id.bytes.data(), id.bytes.size(), out);
}

TraceId new_trace_id(Random& random) {
  TraceId id;
  do {
    fill_random(id.bytes.data(), id.bytes.size(), random);
  } while (!id.valid());
  return id;
}

SpanId new_span_id(Random& random) {
  SpanId id;
  do {
    fill_random(id.bytes.data(), id.bytes.size(), random);
  } while (!id.valid());
  return id;
}

}  // namespace vx::core::trace
