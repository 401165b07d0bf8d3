// ExchangeDeadline: the deadline the pipeline arms on a stream of a multiplexed connection
// (DownstreamExchange::arm_deadline) and the connection's watchdog checks. Worker thread only.
#pragma once

#include <chrono>

#include "ports/upstream_pool.h"

namespace vx::proxy {

class ExchangeDeadline {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // A new deadline; the waits on `upstream` (if any) are the ones it aborts.
  void arm(TimePoint at, ports::UpstreamStream* upstream) {
    at_ = at;
    upstream_ = upstream;
  }
  // For a new stream: nothing expired, nothing watched.
  void reset(TimePoint at) {
    at_ = at;
    upstream_ = nullptr;
    expired_ = false;
  }
  // From the watchdog: true when the deadline passed by `now` (then the watched upstream's
  // wait is cancelled and expired() holds; the caller wakes the stream's own waits). The
  // deadline is then spent: at() is time_point::max() until the next arm().
  bool expire_if_due(TimePoint now) {
    if (now < at_) return false;
    expired_ = true;
    if (upstream_) upstream_->cancel();
    at_ = TimePoint::max();
    return true;
  }
  TimePoint at() const { return at_; }
  bool expired() const { return expired_; }

 private:
  TimePoint at_ = TimePoint::max();
  ports::UpstreamStream* upstream_ = nullptr;
  bool expired_ = false;
};

}  // namespace vx::proxy
