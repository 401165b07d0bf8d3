#include "adapters/wasm/shared_state.h"

namespace vx::adapters::wasm {

namespace {

std::string data_key(std::string_view vm, std::string_view key) {
  std::string k(vm);
  k.push_back('\0');
  k.append(key);
  return k;
}

}  // namespace

std::optional<SharedState::Value> SharedState::get_data(std::string_view vm,
                                                        std::string_view key) const {
  std::lock_guard lock(data_mutex_);
  const auto it = data_.find(data_key(vm, key));
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

WasmResult SharedState::set_data(std::string_view vm, std::string_view key, std::string_view bytes,
                                 uint32_t cas) {
  std::lock_guard lock(data_mutex_);
  std::string name = data_key(vm, key);
  const auto found = data_.find(name);
  // A CAS against a key nobody set fails without creating it (it stays NotFound).
  if (cas != 0 && (found == data_.end() || found->second.cas != cas)) {
    return WasmResult::CasMismatch;
  }
  Value& value = found != data_.end() ? found->second : data_[std::move(name)];
  value.bytes.assign(bytes);
  value.cas = next_cas_++;
  if (next_cas_ == 0) next_cas_ = 1;  // 0 means "no check"
  return WasmResult::Ok;
}

uint32_t SharedState::register_queue(std::string_view vm, std::string_view name, Ready ready) {
  std::lock_guard lock(queue_mutex_);
  for (size_t i = 0; i < queues_.size(); ++i) {
    if (queues_[i].vm == vm && queues_[i].name == name) {
      queues_[i].registrants.push_back(std::move(ready));
      return static_cast<uint32_t>(i + 1);
    }
  }
  queues_.push_back({std::string(vm), std::string(name), {}, {std::move(ready)}});
  return static_cast<uint32_t>(queues_.size());
}

std::optional<uint32_t> SharedState::resolve_queue(std::string_view vm,
                                                   std::string_view name) const {
  std::lock_guard lock(queue_mutex_);
  for (size_t i = 0; i < queues_.size(); ++i) {
    if (queues_[i].vm == vm && queues_[i].name == name) return static_cast<uint32_t>(i + 1);
  }
  return std::nullopt;
}

WasmResult SharedState::enqueue(uint32_t queue, std::string_view bytes) {
  std::vector<Ready> notify;
  {
    std::lock_guard lock(queue_mutex_);
    if (queue == 0 || queue > queues_.size()) return WasmResult::NotFound;
    Queue& q = queues_[queue - 1];
    if (q.items.size() >= kMaxQueueItems) return WasmResult::InternalFailure;
    q.items.emplace_back(bytes);
    notify = q.registrants;
  }
  for (const auto& ready : notify) ready(queue);
  return WasmResult::Ok;
}

core::Result<std::string, WasmResult> SharedState::dequeue(uint32_t queue) {
  std::lock_guard lock(queue_mutex_);
  if (queue == 0 || queue > queues_.size()) return core::unexpected(WasmResult::NotFound);
  Queue& q = queues_[queue - 1];
  if (q.items.empty()) return core::unexpected(WasmResult::Empty);
  std::string item = std::move(q.items.front());
  q.items.pop_front();
  return item;
}

core::Result<uint32_t, WasmResult> SharedState::define_metric(std::string_view plugin,
                                                              MetricType type,
                                                              std::string_view name) {
  if (static_cast<uint32_t>(type) > static_cast<uint32_t>(MetricType::Histogram) || name.empty()) {
    return core::unexpected(WasmResult::BadArgument);
  }
  std::lock_guard lock(metric_mutex_);
  for (size_t i = 0; i < metrics_.size(); ++i) {
    if (metrics_[i].plugin == plugin && metrics_[i].name == name) {
      if (metrics_[i].type != type) return core::unexpected(WasmResult::BadArgument);
      return static_cast<uint32_t>(i + 1);
    }
  }
  metrics_.push_back({std::string(plugin), std::string(name), type});
  return static_cast<uint32_t>(metrics_.size());
}

WasmResult SharedState::record_metric(uint32_t id, uint64_t value) {
  std::lock_guard lock(metric_mutex_);
  if (id == 0 || id > metrics_.size()) return WasmResult::NotFound;
  Metric& m = metrics_[id - 1];
  if (m.type == MetricType::Histogram) {
    m.value += static_cast<int64_t>(value);
    ++m.count;
  } else {
    m.value = static_cast<int64_t>(value);
  }
  return WasmResult::Ok;
}

WasmResult SharedState::increment_metric(uint32_t id, int64_t delta) {
  std::lock_guard lock(metric_mutex_);
  if (id == 0 || id > metrics_.size()) return WasmResult::NotFound;
  Metric& m = metrics_[id - 1];
  if (m.type == MetricType::Histogram) return WasmResult::BadArgument;
  if (m.type == MetricType::Counter && delta < 0) return WasmResult::BadArgument;
  m.value += delta;
  return WasmResult::Ok;
}

core::Result<uint64_t, WasmResult> SharedState::get_metric(uint32_t id) const {
  std::lock_guard lock(metric_mutex_);
  if (id == 0 || id > metrics_.size()) return core::unexpected(WasmResult::NotFound);
  const Metric& m = metrics_[id - 1];
  if (m.type == MetricType::Histogram) return core::unexpected(WasmResult::BadArgument);
  return static_cast<uint64_t>(m.value);
}

std::vector<SharedState::MetricSample> SharedState::metrics() const {
  std::lock_guard lock(metric_mutex_);
  std::vector<MetricSample> out;
  out.reserve(metrics_.size());
  for (const auto& m : metrics_) out.push_back({m.plugin, m.name, m.type, m.value, m.count});
  return out;
}

}  // namespace vx::adapters::wasm
