#include "core/lb/active_request.h"

#include <algorithm>
#include <utility>

namespace vx::core::lb {

ActiveRequest::ActiveRequest(EndpointState& endpoint, breaker::Admission admission, TimePoint start)
    : endpoint_(&endpoint), admission_(admission), start_(start) {
  endpoint_->add_active();
  endpoint_->add_pending(start_);
}

ActiveRequest::ActiveRequest(ActiveRequest&& other) noexcept
    : endpoint_(std::exchange(other.endpoint_, nullptr)),
      admission_(other.admission_),
      start_(other.start_),
      head_received_(other.head_received_) {}

ActiveRequest& ActiveRequest::operator=(ActiveRequest&& other) noexcept {
  if (this != &other) {
    if (endpoint_ != nullptr) {
      endpoint_->breaker().cancel(admission_);
      end();
    }
    endpoint_ = std::exchange(other.endpoint_, nullptr);
    admission_ = other.admission_;
    start_ = other.start_;
    head_received_ = other.head_received_;
  }
  return *this;
}

ActiveRequest::~ActiveRequest() {
  if (endpoint_ == nullptr) return;
  endpoint_->breaker().cancel(admission_);
  end();
}

void ActiveRequest::on_response_head(TimePoint now) {
  if (endpoint_ == nullptr || head_received_) return;
  head_received_ = true;
  endpoint_->remove_pending(start_);
  endpoint_->latency().observe(std::max(Nanos::zero(), now - start_), now);
}

void ActiveRequest::finish(Outcome outcome, TimePoint now) {
  if (endpoint_ == nullptr) return;
  const Nanos elapsed = std::max(Nanos::zero(), now - start_);
  const bool success = outcome == Outcome::Success;
  if (!success) {
    endpoint_->latency().observe(std::max<Nanos>(elapsed, kFailurePenalty), now);
  } else if (!head_received_) {
    endpoint_->latency().observe(elapsed, now);
  }
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
  if (!head_received_) endpoint_->remove_pending(start_);
  endpoint_->remove_active();
  endpoint_ = nullptr;
}

}  // namespace vx::core::lb
