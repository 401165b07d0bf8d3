// Proxy-Wasm properties (proxy_get_property; proxy-wasm-abi.md §6): what a plugin may read about
// its stream and itself, by path. Strings are their bytes; numbers are 8-byte little-endian
// integers and times nanoseconds since the epoch, as Envoy serialises them; maps are in the
// pairs format. docs/wasm.md lists the supported paths.
#pragma once

#include <string>
#include <string_view>

namespace vx::adapters::wasm {

class PluginInstance;

// `path` is the property path with its segments joined by NUL bytes ("request\0path"). Writes
// the value to `out` and returns true, or false when the path is unknown or has no value in the
// current context (a stream property read from the root context).
bool property(PluginInstance& plugin, std::string_view path, std::string& out);

}  // namespace vx::adapters::wasm
