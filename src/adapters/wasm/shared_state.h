// SharedState: what a plugin's instances on every worker share (Proxy-Wasm shared data and
// shared queues) and the metrics plugins define, for the whole process. Thread-safe: one mutex
// per table. These are calls a plugin makes when it chooses to; a request whose plugins make
// none never takes these locks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/wasm/abi.h"
#include "core/result.h"

namespace vx::adapters::wasm {

class SharedState {
 public:
  // Shared data, per VM id (Vortex runs one VM per plugin, named after it).
  struct Value {
    std::string bytes;
    uint32_t cas = 0;
  };
  std::optional<Value> get_data(std::string_view vm, std::string_view key) const;
  // cas 0 sets unconditionally; otherwise only when it matches the stored value's (else
  // CasMismatch). Every set gives the value a new cas.
  WasmResult set_data(std::string_view vm, std::string_view key, std::string_view bytes,
                      uint32_t cas);

  // Shared queues, by name per VM. `ready` is called (on the enqueuing thread) for every
  // registration of the queue when an item arrives: each registrant posts to its own worker
  // and dequeues there. Registering the same name again adds a registrant, same queue id.
  using Ready = std::function<void(uint32_t queue)>;
  uint32_t register_queue(std::string_view vm, std::string_view name, Ready ready);
  std::optional<uint32_t> resolve_queue(std::string_view vm, std::string_view name) const;
  WasmResult enqueue(uint32_t queue, std::string_view bytes);
  // Empty when nothing is queued; NotFound for an unknown queue.
  core::Result<std::string, WasmResult> dequeue(uint32_t queue);

  // Metrics plugins define (proxy_define_metric), exported on /metrics. A name defined again
  // (another worker's instance, a hot swap) gets the same metric.
  core::Result<uint32_t, WasmResult> define_metric(std::string_view plugin, MetricType type,
                                                   std::string_view name);
  WasmResult record_metric(uint32_t id, uint64_t value);
  WasmResult increment_metric(uint32_t id, int64_t delta);
  core::Result<uint64_t, WasmResult> get_metric(uint32_t id) const;
  struct MetricSample {
    std::string plugin;
    std::string name;
    MetricType type;
    int64_t value;       // counter, gauge; a histogram's sum
    uint64_t count = 0;  // a histogram's observations
  };
  std::vector<MetricSample> metrics() const;

 private:
  struct Queue {
    std::string vm, name;
    std::deque<std::string> items;
    std::vector<Ready> registrants;
  };
  struct Metric {
    std::string plugin, name;
    MetricType type;
    int64_t value = 0;
    uint64_t count = 0;
  };
  static constexpr size_t kMaxQueueItems = 10000;  // an undrained queue refuses more

  mutable std::mutex data_mutex_;
  std::map<std::string, Value, std::less<>> data_;  // "vm\0key"
  uint32_t next_cas_ = 1;

  mutable std::mutex queue_mutex_;
  std::vector<Queue> queues_;  // id = index + 1

  mutable std::mutex metric_mutex_;
  std::vector<Metric> metrics_;  // id = index + 1
};

}  // namespace vx::adapters::wasm
