#include "adapters/wasm/pairs.h"

#include <cstring>

namespace vx::adapters::wasm {

namespace {

void put_u32(std::string& out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v), static_cast<char>(v >> 8),
                         static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out.append(bytes, 4);
}

uint32_t get_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian host (x86-64), as Wasm is
  return v;
}

}  // namespace

size_t encoded_size(const core::http::HeaderList& headers) {
  size_t n = 4;
  for (const auto& h : headers) n += 8 + h.name.size() + 1 + h.value.size() + 1;
  return n;
}

void encode_pairs(const core::http::HeaderList& headers, std::string& out) {
  out.reserve(out.size() + encoded_size(headers));
  put_u32(out, static_cast<uint32_t>(headers.size()));
  for (const auto& h : headers) {
    put_u32(out, static_cast<uint32_t>(h.name.size()));
    put_u32(out, static_cast<uint32_t>(h.value.size()));
  }
  for (const auto& h : headers) {
    out.append(h.name);
    out.push_back('\0');
    out.append(h.value);
    out.push_back('\0');
  }
}

std::optional<Pairs> decode_pairs(std::string_view bytes) {
  Pairs pairs;
  if (bytes.empty() || (bytes.size() == 1 && bytes[0] == '\0')) return pairs;
  if (bytes.size() < 4 || bytes.size() > kMaxPairsBytes) return std::nullopt;
  const uint32_t count = get_u32(bytes.data());
  if (count > kMaxPairs || bytes.size() < 4 + uint64_t{count} * 8) return std::nullopt;
  size_t at = 4 + size_t{count} * 8;
  pairs.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t key_size = get_u32(bytes.data() + 4 + i * 8);
    const uint32_t value_size = get_u32(bytes.data() + 8 + i * 8);
    if (uint64_t{at} + key_size + 1 + value_size + 1 > bytes.size()) return std::nullopt;
    const std::string_view key = bytes.substr(at, key_size);
    at += key_size;
    if (bytes[at++] != '\0') return std::nullopt;
    const std::string_view value = bytes.substr(at, value_size);
    at += value_size;
    if (bytes[at++] != '\0') return std::nullopt;
    pairs.emplace_back(key, value);
  }
  return pairs;
}

}  // namespace vx::adapters::wasm
