// FloodGuard: counts one kind of peer frame per one-second window and says when the peer went
// over its budget (rapid reset, SETTINGS/PING/empty-frame floods: HTTP/2 attacks that cost the
// server more than the client). Time is handed in; single-threaded. Every HTTP/2 session holds
// six, idle or not, so it is 16 bytes: the window is fixed rather than stored.
#pragma once

#include <chrono>
#include <cstdint>

namespace vx::adapters::h2 {

class FloodGuard {
 public:
  static constexpr std::chrono::seconds kWindow{1};

  explicit FloodGuard(uint32_t budget_per_window) : budget_(budget_per_window) {}

  // Counts one event at `now`; true when the window's budget is exceeded.
  bool over(std::chrono::steady_clock::time_point now) {
    if (now - window_start_ >= kWindow) {
      window_start_ = now;
      count_ = 0;
    }
    return ++count_ > budget_;
  }

 private:
  uint32_t budget_;
  uint32_t count_ = 0;
  std::chrono::steady_clock::time_point window_start_{};
};

}  // namespace vx::adapters::h2
