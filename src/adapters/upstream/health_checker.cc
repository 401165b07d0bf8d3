#include "adapters/upstream/health_checker.h"

#include <pthread.h>

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>

#include "adapters/upstream/client_tls_context.h"
#include "adapters/upstream/health_exchange.h"
#include "ports/guarded_spawn.h"
#include "ports/guarded_thread.h"

namespace vx::adapters::upstream {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

// Transition lines per second before the rest are only counted (a flapping fleet must not
// flood the log; one line per transition otherwise).
constexpr uint32_t kLogBurst = 20;
// Before the scheduler runs again after it failed: a failure that repeats at once costs a
// wake-up a second, not a spinning thread.
constexpr std::chrono::seconds kRestartPause{1};

}  // namespace

HealthChecker::HealthChecker(const proxy::RuntimeHolder& runtime) : holder_(runtime) {}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::start() {
  if (started_) return;
  started_ = true;
  spawn_scheduler(Clock::duration::zero());
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "vortex-health");  // its wake-ups show in /proc (tests)
    ports::run_guarded_thread(ports::TaskKind::HealthCheckerThread, [this] { io_.run(); });
  });
}

void HealthChecker::spawn_scheduler(Clock::duration start_after) {
  // run() never returns, and stop() never resumes it, so its end is always an exception. It is
  // started again rather than left dead: without it no endpoint is probed, and one it marked
  // unhealthy would stay out of every balancer until a restart.
  ports::spawn_guarded(io_.get_executor(), run(start_after), ports::TaskKind::HealthChecker,
                       [this] { spawn_scheduler(kRestartPause); });
}

void HealthChecker::stop() {
  if (!started_) return;
  started_ = false;
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::runtime_published() {
  asio::post(io_, [this] { sleep_.cancel(); });
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

ports::Awaitable<void> HealthChecker::run(Clock::duration start_after) {
  const ports::Executor executor = io_.get_executor();
  Timer timer(executor);
  if (start_after > Clock::duration::zero()) {
    timer.expires_after(start_after);
    co_await timer.async_wait(ports::kUseTuple);
  }
  // Between probes it sleeps until the next is due, until a reload or until a probe that ran
  // past its next due time ends (sleep_): a proxy with no health check, or idle between probes,
  // does not wake for nothing (it polled every 100 ms for reloads, and every 1 ms while a probe
  // was overdue).
  for (;;) {
    refresh();
    const auto now = Clock::now();
    auto wake = Clock::time_point::max();
    for (const Target& target : targets_) {
      Slot& slot = *target.slot;
      if (!slot.in_flight && slot.due <= now) {
        slot.in_flight = true;
        slot.due = now + target.cluster->config->health_check->interval;
        // The slot is freed however the probe ends: one that threw is not a verdict on the
        // endpoint, and the next round probes it again.
        ports::spawn_guarded(executor, probe(runtime_, target), ports::TaskKind::HealthProbe,
                             [this, slot = target.slot] {
                               slot->in_flight = false;
                               if (slot->due <= Clock::now()) sleep_.cancel();
                             });
      }
      if (!slot.in_flight || slot.due > now) wake = std::min(wake, slot.due);
    }
    sleep_.expires_at(std::max(wake, now + std::chrono::milliseconds(1)));
    co_await sleep_.async_wait(ports::kUseTuple);
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
  const core::config::SocketAddress& address = state.socket_address();
  const auto& tls = cluster.config->tls;
  ProbeTarget probe_target{
      .addresses = cluster.addresses[target.index],
      .path = check.path,
      .authority = state.address(),
      // The runtime built it with ClientTlsContext::create (a cluster with a tls block and no
      // context is refused at load), as the workers' pools rely on too.
      .tls = static_cast<const ClientTlsContext*>(cluster.tls.get()),
      .server_name =
          tls && !tls->sni.empty() ? std::string_view(tls->sni) : std::string_view(address.host),
      .h2 = cluster.config->protocol != core::config::UpstreamProtocol::Http1,
  };
  // timeout_ms bounds the whole probe: connect, TLS handshake and the exchange together.
  Timer timer(executor, check.timeout);
  auto outcome =
      co_await (run_health_probe(executor, probe_target) || timer.async_wait(ports::kUseTuple));
  const ProbeResult result =
      outcome.index() == 0 ? std::get<0>(outcome) : ProbeResult{false, "timed out"};
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
