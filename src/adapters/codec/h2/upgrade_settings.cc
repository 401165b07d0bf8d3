#include "adapters/codec/h2/upgrade_settings.h"

#include <cstdint>

namespace vx::adapters::h2 {

namespace {

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

bool acceptable(uint16_t id, uint32_t value) {
  switch (id) {
    case 0x2:  // ENABLE_PUSH
    case 0x8:  // ENABLE_CONNECT_PROTOCOL (RFC 8441)
      return value <= 1;
    case 0x4:  // INITIAL_WINDOW_SIZE
      return value <= 0x7fffffffu;
    case 0x5:  // MAX_FRAME_SIZE
      return value >= (1u << 14) && value < (1u << 24);
    default:
      return true;
  }
}

}  // namespace

std::optional<std::string> decode_http2_settings(std::string_view field) {
  while (!field.empty() && field.back() == '=') field.remove_suffix(1);
  std::string payload;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : field) {
    const int v = base64url_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      payload.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (payload.size() % 6 != 0) return std::nullopt;
  for (size_t i = 0; i < payload.size(); i += 6) {
    const auto byte = [&](size_t k) { return static_cast<uint8_t>(payload[i + k]); };
    const auto id = static_cast<uint16_t>(byte(0) << 8 | byte(1));
    const uint32_t value = static_cast<uint32_t>(byte(2)) << 24 |
                           static_cast<uint32_t>(byte(3)) << 16 |
                           static_cast<uint32_t>(byte(4)) << 8 | byte(5);
    if (!acceptable(id, value)) return std::nullopt;
  }
  return payload;
}

}  // namespace vx::adapters::h2
