// MetricsSource: what the metrics endpoint serves, implemented by the app. Called on the
// metrics thread while the workers run: implementations are thread-safe.
#pragma once

#include <string>

namespace vx::adapters::admin {

class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  // The Prometheus text exposition (0.0.4) of every metric now.
  virtual std::string render_metrics() = 0;
  // /readyz: listeners open and a config loaded.
  virtual bool ready() = 0;
};

}  // namespace vx::adapters::admin
