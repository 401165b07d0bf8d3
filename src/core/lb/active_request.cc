#include "core/lb/active_request.h"

#include <algorithm>
#include <utility>

namespace vx::core::lb {

ActiveRequest::ActiveRequest(EndpointState& endpoint, breaker::Admission admission, TimePoint start)
    : endpoint_(&endpoint), admission_(admission), start_(start) {
  endpoint_->add_active();
}

ActiveRequest::ActiveRequest(ActiveRequest&& other) noexcept
    : endpoint_(std::exchange(other.endpoint_, nullptr)),
      admission_(other.admission_),
      start_(other.start_) {}

ActiveRequest& ActiveRequest::operator=(ActiveRequest&& other) noexcept {
  if (this != &other) {
    if (endpoint_ != nullptr) {
      endpoint_->breaker().cancel(admission_);
      end();
    }
    endpoint_ = std::exchange(other.endpoint_, nullptr);
    admission_ = other.admission_;
    start_ = other.start_;
  }
  return *this;
}

ActiveRequest::~ActiveRequest() {
  if (endpoint_ == nullptr) return;
  endpoint_->breaker().cancel(admission_);
  end();
}

void ActiveRequest::finish(Outcome outcome, TimePoint now) {
  if (endpoint_ == nullptr) return;
  const Nanos elapsed = std::max(Nanos::zero(), now - start_);
  const bool success = outcome == Outcome::Success;
  endpoint_->latency().observe(success ? elapsed : std::max<Nanos>(elapsed, kFailurePenalty), now);
  endpoint_->breaker().on_result(admission_, success, now);
  end();
}

void ActiveRequest::cancel(TimePoint now) {
  if (endpoint_ == nullptr) return;
  const Nanos elapsed = std::max(Nanos::zero(), now - start_);
  PeakEwma& latency = endpoint_->latency();
  if (std::chrono::duration<double, std::milli>(elapsed).count() >= latency.value_ms_at(now)) {
    latency.observe(elapsed, now);  // leaves the estimate no lower than elapsed
  }
  endpoint_->breaker().cancel(admission_);
  end();
}

void ActiveRequest::end() {
  endpoint_->remove_active();
  endpoint_ = nullptr;
}

}  // namespace vx::core::lb
