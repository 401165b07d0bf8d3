// The Proxy-Wasm map serialization (../shared/proxy-wasm-abi.md §5): u32 count, count × (u32
// key length, u32 value length), then each key and value followed by a NUL; all little-endian.
// How header maps cross the guest boundary in both directions. Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http/header.h"

namespace vx::adapters::wasm {

using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;

// More pairs or bytes than cpp-host accepts are refused (PairsUtil: 1024 pairs, 1 MiB).
inline constexpr uint32_t kMaxPairs = 1024;
inline constexpr size_t kMaxPairsBytes = 1 << 20;

size_t encoded_size(const core::http::HeaderList& headers);
// Appends the serialized map to `out`.
void encode_pairs(const core::http::HeaderList& headers, std::string& out);
// The pairs `bytes` holds, as views into it; nullopt when malformed (a length past the end, a
// missing NUL, over the limits). Empty input, or the single byte 0, is the empty map.
std::optional<Pairs> decode_pairs(std::string_view bytes);

}  // namespace vx::adapters::wasm
