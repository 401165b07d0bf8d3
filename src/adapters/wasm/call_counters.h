// CallCounters: SPEC.md §6 vortex_wasm_calls_total{plugin,result} for one plugin name, kept
// across its hot swaps so the counter never goes back. Each worker writes only its own slot
// (plain stores, no locked instruction); the scrape sums them on another thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>
#include <vector>

namespace vx::adapters::wasm {

enum class CallResult : uint8_t { Continue, Deny, Trap, Timeout };
inline constexpr size_t kCallResults = 4;
std::string_view to_string(CallResult result);

class CallCounters {
 public:
  explicit CallCounters(unsigned workers) : slots_(workers) {}
  // Worker `worker`'s thread only.
  void count(unsigned worker, CallResult result) {
    auto& c = slots_[worker][static_cast<size_t>(result)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Any thread.
  std::array<uint64_t, kCallResults> totals() const {
    std::array<uint64_t, kCallResults> sum{};
    for (const auto& slot : slots_) {
      for (size_t i = 0; i < kCallResults; ++i) sum[i] += slot[i].load(std::memory_order_relaxed);
    }
    return sum;
  }

 private:
  std::vector<std::array<std::atomic<uint64_t>, kCallResults>> slots_;
};

}  // namespace vx::adapters::wasm
