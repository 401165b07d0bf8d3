// FloodGuard: counts one kind of peer frame per time window and says when the peer went over
// its budget (rapid reset, SETTINGS/PING/empty-frame floods: HTTP/2 attacks that cost the
// server more than the client). Time is handed in; single-threaded.
#pragma once

#include <chrono>
#include <cstdint>

namespace vx::adapters::h2 {

class FloodGuard {
 public:
  FloodGuard(uint32_t budget, std::chrono::milliseconds window)
      : budget_(budget), window_(window) {}

  // Counts one event at `now`; true when the window's budget is exceeded.
  bool over(std::chrono::steady_clock::time_point now) {
    if (now - window_start_ >= window_) {
      window_start_ = now;
      count_ = 0;
    }
    return ++count_ > budget_;
  }

 private:
  uint32_t budget_;
  std::chrono::milliseconds window_;
  std::chrono::steady_clock::time_point window_start_{};
  uint32_t count_ = 0;
};

}  // namespace vx::adapters::h2
