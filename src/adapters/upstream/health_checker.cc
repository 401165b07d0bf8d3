#include "adapters/upstream/health_checker.h"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <exception>

#include "adapters/upstream/health_probe.h"

namespace vx::adapters::upstream {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

using ProbeSocket = asio::basic_stream_socket<asio::ip::tcp, ports::Executor>;
using ProbeTimer =
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, ports::Executor>;

// The longest the scheduler sleeps: how soon a reload's new clusters get their first probe.
constexpr std::chrono::milliseconds kMaxSleep{100};
// Transition lines per second before the rest are only counted (a flapping fleet must not
// flood the log; one line per transition otherwise).
constexpr uint32_t kLogBurst = 20;
constexpr size_t kMaxResponseBytes = 16 * 1024 + 1;

struct ProbeResult {
  bool ok = false;
  std::string_view why;  // a literal
  uint16_t status = 0;
};

// Connect (each resolved address in turn), send, read until the head is judged. Unbounded in
// time: the caller races it against timeout_ms.
ports::Awaitable<ProbeResult> exchange(ports::Executor executor,
                                       const std::vector<asio::ip::tcp::endpoint>& addresses,
                                       std::string request) {
  ProbeSocket socket(executor);
  bool connected = false;
  for (const auto& address : addresses) {
    boost::system::error_code ignored;
    socket.close(ignored);
    auto [ec] = co_await socket.async_connect(address, ports::kUseTuple);
    if (!ec) {
      connected = true;
      break;
    }
  }
  if (!connected) co_return ProbeResult{false, "connect failed"};
  auto [write_ec, written] =
      co_await asio::async_write(socket, asio::buffer(request), ports::kUseTuple);
  if (write_ec) co_return ProbeResult{false, "send failed"};
  std::string received;
  std::array<char, 2048> chunk;
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), ports::kUseTuple);
    received.append(chunk.data(), n);
    const ProbeAnswer answer = judge_probe_response(received);
    if (answer.verdict == ProbeVerdict::Healthy) co_return ProbeResult{true, {}, answer.status};
    if (answer.verdict == ProbeVerdict::Unhealthy) {
      co_return ProbeResult{false, answer.detail, answer.status};
    }
    if (ec) co_return ProbeResult{false, "connection closed before a response"};
    if (received.size() >= kMaxResponseBytes) co_return ProbeResult{false, "response too large"};
  }
}

}  // namespace

HealthChecker::HealthChecker(const proxy::RuntimeHolder& runtime) : holder_(runtime) {}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::start() {
  if (started_) return;
  started_ = true;
  asio::co_spawn(io_.get_executor(), run(), [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vortex: health checker stopped: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "vortex: health checker stopped\n");
    }
  });
  thread_ = std::thread([this] { io_.run(); });
}

void HealthChecker::stop() {
  if (!started_) return;
  started_ = false;
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::refresh() {
  const uint64_t generation = holder_.generation();
  if (generation == generation_) return;
  generation_ = generation;
  std::shared_ptr<const proxy::Runtime> next = holder_.load();
  std::unordered_map<const core::lb::EndpointState*, std::shared_ptr<Slot>> slots;
  std::vector<Target> targets;
  if (next) {
    for (const proxy::ClusterRuntime& cluster : next->clusters()) {
      const core::config::Cluster& config = *cluster.config;
      if (!config.health_check) continue;
      if (config.tls || config.protocol != core::config::UpstreamProtocol::Http1) {
        // TODO(lb): probe over the cluster's own protocol and TLS settings (#3).
        if (skipped_clusters_.insert(config.name).second) {
          std::fprintf(stderr,
                       "vortex: health checks of cluster %s not run: only plain HTTP/1.1 "
                       "clusters are probed so far\n",
                       config.name.c_str());
        }
        continue;
      }
      const auto endpoints = cluster.balancer->endpoints();
      for (size_t i = 0; i < endpoints.size(); ++i) {
        // runtime_ (the previous Runtime) keeps its states alive until the end of this call, so
        // a pointer found in slots_ is the same shared state, never a new one at a reused
        // address.
        auto old = slots_.find(endpoints[i]);
        auto slot = old != slots_.end() ? old->second : std::make_shared<Slot>();
        slots.emplace(endpoints[i], slot);
        targets.push_back({&cluster, i, std::move(slot)});
      }
    }
  }
  targets_ = std::move(targets);
  slots_ = std::move(slots);
  runtime_ = std::move(next);
}

ports::Awaitable<void> HealthChecker::run() {
  const ports::Executor executor = io_.get_executor();
  ProbeTimer timer(executor);
  for (;;) {
    refresh();
    const auto now = Clock::now();
    auto wake = now + kMaxSleep;
    for (const Target& target : targets_) {
      Slot& slot = *target.slot;
      if (!slot.in_flight && slot.due <= now) {
        slot.in_flight = true;
        slot.due = now + target.cluster->config->health_check->interval;
        asio::co_spawn(executor, probe(runtime_, target), [](std::exception_ptr error) {
          if (error) std::fprintf(stderr, "vortex: a health probe failed unexpectedly\n");
        });
      }
      wake = std::min(wake, slot.due);
    }
    timer.expires_at(std::max(wake, now + std::chrono::milliseconds(1)));
    co_await timer.async_wait(ports::kUseTuple);
  }
}

ports::Awaitable<void> HealthChecker::probe(std::shared_ptr<const proxy::Runtime> runtime,
                                            Target target) {
  // `runtime` keeps the cluster and its endpoint states alive for the probe's whole life, even
  // if a reload drops them meanwhile.
  const proxy::ClusterRuntime& cluster = *target.cluster;
  const core::config::HealthCheck& check = *cluster.config->health_check;
  core::lb::EndpointState& state = *cluster.balancer->endpoints()[target.index];
  const ports::Executor executor = co_await asio::this_coro::executor;
  ProbeTimer timer(executor, check.timeout);
  auto outcome = co_await (exchange(executor, cluster.addresses[target.index],
                                    health_probe_request(check.path, state.address())) ||
                           timer.async_wait(ports::kUseTuple));
  const ProbeResult result =
      outcome.index() == 0 ? std::get<0>(outcome) : ProbeResult{false, "timed out"};
  target.slot->in_flight = false;
  if (state.on_health_check(result.ok)) {
    log_transition(cluster, state, result.ok ? std::string_view{} : result.why, result.status);
  }
}

void HealthChecker::log_transition(const proxy::ClusterRuntime& cluster,
                                   const core::lb::EndpointState& state, std::string_view why,
                                   uint16_t status) {
  const auto now = Clock::now();
  if (now - log_window_ >= std::chrono::seconds(1)) {
    log_window_ = now;
    logged_in_window_ = 0;
  }
  if (logged_in_window_ >= kLogBurst) {
    ++unlogged_;
    return;
  }
  ++logged_in_window_;
  const bool healthy = state.healthy();
  char status_text[16] = "";
  if (!healthy && status != 0) std::snprintf(status_text, sizeof status_text, " %u", status);
  std::fprintf(stderr, "vortex: health: cluster %s endpoint %s is now %s%s%.*s%s\n",
               cluster.config->name.c_str(), state.address().c_str(),
               healthy ? "healthy" : "unhealthy", why.empty() ? "" : ": ",
               static_cast<int>(why.size()), why.data(), status_text);
  if (unlogged_ > 0) {
    std::fprintf(stderr, "vortex: health: %llu earlier transitions not logged (rate limit)\n",
                 static_cast<unsigned long long>(unlogged_));
    unlogged_ = 0;
  }
  std::fflush(stderr);
}

}  // namespace vx::adapters::upstream
