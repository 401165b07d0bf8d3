// AdminBackend: what the admin API (gRPC service) and the metrics endpoint ask of the running
// process. The app implements it; this adapter knows nothing else of the app. Every method may
// be called from the admin or metrics thread, concurrently with the workers: implementations
// are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vx::adapters::admin {

// The answer of a call that changes state (SPEC.md §5: success + message).
struct CallResult {
  bool success = false;
  std::string message;
};

struct ReloadResult {
  bool success = false;
  std::string message;              // one line for humans
  std::vector<std::string> errors;  // every "FILE:LINE: message" of a refused file
  uint64_t config_generation = 0;   // the generation serving after the call
};

struct StatusCount {
  uint16_t status = 0;
  uint64_t count = 0;
};

struct Stats {
  uint64_t active_connections = 0;
  uint64_t requests_total = 0;
  std::vector<StatusCount> responses_by_status;  // ascending status
  double uptime_seconds = 0;
  uint64_t config_generation = 0;
  uint32_t workers = 0;
  uint32_t listeners = 0;
  uint64_t reloads_succeeded = 0;
  uint64_t reloads_failed = 0;
  std::string version;
  std::string config_path;
  uint64_t bans_active = 0;
};

enum class BreakerState : uint8_t { Closed = 0, Open = 1, HalfOpen = 2 };

struct BackendInfo {
  std::string cluster;
  std::string address;  // "host:port" as configured
  double ewma_ms = 0;
  uint32_t active = 0;
  BreakerState breaker = BreakerState::Closed;
  bool healthy = true;
  uint32_t weight = 1;
  std::string source;  // "file" or "kubernetes/<namespace>/<name>" (a VortexRoute)
};

struct BanInfo {
  std::string ip;
  uint64_t expires_in_ms = 0;
  std::string enforcement;  // "xdp_native" | "xdp_generic" | "userspace"
};

struct BanListResult {
  bool success = false;
  std::string message;  // why not, when !success ("bans disabled")
  std::vector<BanInfo> bans;
  std::string enforcement;  // where new bans go
};

struct BanResult {
  bool success = false;
  std::string message;
  uint64_t expires_in_ms = 0;
};

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  // Loads `path` (empty: the file the process runs with), validates it completely and swaps
  // it in, or refuses it with every message and keeps the running config. Blocks until the
  // new config serves (listeners opened and closed on every worker). Calls are serialised.
  virtual ReloadResult reload(const std::string& path) = 0;
  virtual Stats stats() = 0;
  virtual std::vector<BackendInfo> backends() = 0;
  // ttl_ms 0: the configured bans.ttl_ms.
  virtual BanResult ban(const std::string& ip, uint64_t ttl_ms) = 0;
  virtual CallResult unban(const std::string& ip) = 0;
  virtual BanListResult bans() = 0;
  // plugin_name empty: the first plugin. A refused module leaves the running one in place.
  virtual CallResult update_wasm(std::string_view wasm_binary, const std::string& plugin_name) = 0;
};

}  // namespace vx::adapters::admin
