// Proxy-Wasm ABI constants (../shared/proxy-wasm-abi.md §4, the spec's v0.1.0..v0.2.1), and the
// ABI versions Vortex serves. Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vx::adapters::wasm {

enum class AbiVersion : uint8_t { V0_1_0, V0_2_0, V0_2_1 };

// The ABI a module was built for, from the marker it exports (proxy_abi_version_*); nullopt
// for none. vNEXT's marker (proxy_abi_version_0_x_x) reads as 0.2.1, its function set.
std::optional<AbiVersion> abi_version_from_export(std::string_view name);
std::string_view to_string(AbiVersion version);

enum class WasmResult : uint32_t {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  InternalFailure = 10,
  Unimplemented = 12,
};

// What a stream callback returns. The C++ SDK's richer header and data statuses (StopIteration,
// StopAllIterationAndBuffer, StopIterationAndBuffer, ...) are all non-zero: every one of them
// means "pause" here.
enum class Action : uint32_t { Continue = 0, Pause = 1 };

enum class BufferType : uint32_t {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcCallMessage = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  ForeignFunctionArguments = 8,
};

enum class MapType : uint32_t {
  HttpRequestHeaders = 0,
  HttpRequestTrailers = 1,
  HttpResponseHeaders = 2,
  HttpResponseTrailers = 3,
  GrpcCallInitialMetadata = 4,
  GrpcCallTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
};

enum class StreamType : uint32_t {
  HttpRequest = 0,
  HttpResponse = 1,
  Downstream = 2,
  Upstream = 3
};

enum class LogLevel : uint32_t {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5
};

enum class MetricType : uint32_t { Counter = 0, Gauge = 1, Histogram = 2 };

// WASI errno values the host returns (wasi_snapshot_preview1).
enum class WasiErrno : uint32_t {
  Success = 0,
  BadF = 8,
  Fault = 21,
  Inval = 28,
  Io = 29,
  NotSup = 58
};

}  // namespace vx::adapters::wasm
