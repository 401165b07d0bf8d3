// PrometheusText: builds the Prometheus text exposition format 0.0.4 (HELP, TYPE, samples with
// escaped label values). Single-threaded value type, used by one scrape at a time.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace vx::adapters::admin {

using Label = std::pair<std::string_view, std::string_view>;

class PrometheusText {
 public:
  // Starts a family; every sample() after it until the next family() belongs to it.
  // type: "counter" | "gauge" | "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void begin_sample(std::string_view name, std::initializer_list<Label> labels);
  std::string out_;
};

// A label value with \, " and newline escaped (text format 0.0.4).
std::string escape_label_value(std::string_view value);

}  // namespace vx::adapters::admin
