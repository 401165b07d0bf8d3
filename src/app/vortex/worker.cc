#include "app/vortex/worker.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <future>
#include <random>

#include "adapters/net/listener_factory.h"
#include "adapters/net/stream.h"
#include "ports/guarded_spawn.h"
#include "ports/guarded_thread.h"

namespace vx::app {

namespace asio = boost::asio;

namespace {

uint64_t seed_for(unsigned index) {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device() ^ index;
}

}  // namespace

Worker::Worker(unsigned index, const proxy::RuntimeHolder& runtime,
               std::shared_ptr<const core::config::Config> config,
               adapters::net::ConnectionBudget& budget)
    : index_(index),
      config_(std::move(config)),
      random_(seed_for(index)),
      pool_(io_.get_executor()),
      context_{proxy::WorkerRuntime(runtime), pool_, random_, {}},
      budget_(budget),
      limits_(config_->limits) {
  context_.index = index;
}

Worker::~Worker() {
  join();
  io_.shutdown();
}

core::Result<void, std::vector<std::string>> Worker::open() {
  std::vector<std::string> errors;
  if (config_->access_log.path != "off") {
    auto log = adapters::telemetry::JsonAccessLog::open(config_->access_log.path);
    if (log) {
      access_log_ = std::move(*log);
      context_.observers.push_back(access_log_.get());
    } else {
      errors.push_back(log.error());
    }
  }
  if (!config_->metrics.address.empty()) {  // metrics.address "" = off: no per-stream cost
    metrics_on_ = true;
    context_.observers.push_back(&metrics_);
    context_.metrics = &metrics_;
  }
  for (const auto& listener : config_->listeners) open_listeners(listener, listeners_, errors);
  if (!errors.empty()) return core::unexpected(std::move(errors));
  return {};
}

void Worker::start(bool pin_cpu) {
  // Posted first, so they run before the accept loops take their first connection.
  for (auto& task : before_accepting_) asio::post(io_, std::move(task));
  before_accepting_.clear();
  for (auto& listener : listeners_) {
    ports::spawn_guarded(io_.get_executor(), listener->serve(), ports::TaskKind::Listener);
  }
  ports::spawn_guarded(io_.get_executor(), housekeeping(), ports::TaskKind::WorkerTask);
  ports::spawn_guarded(io_.get_executor(), inbox_.serve(), ports::TaskKind::WorkerTask);
  thread_ = std::thread([this, pin_cpu] {
    // Named, so each worker's CPU shows in top -H and /proc (the HTTP/3 tests read it there).
    char name[16];
    std::snprintf(name, sizeof name, "vortex-w%u", index_);
    pthread_setname_np(pthread_self(), name);
    if (pin_cpu) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(index_ % std::thread::hardware_concurrency(), &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    ports::run_guarded_thread(ports::TaskKind::WorkerThread, [this] { io_.run(); });
    if (access_log_) access_log_->flush();
  });
}

ports::Awaitable<void> Worker::housekeeping() {
  adapters::net::Timer tick(io_.get_executor());
  int ticks = 0;
  while (!draining_) {
    tick.expires_after(std::chrono::milliseconds(200));
    co_await tick.async_wait(ports::kUseTuple);
    if (access_log_) access_log_->flush();
    if (metrics_on_) publish_connection_gauges();
    if (++ticks % 5 == 0) pool_.sweep_idle();
  }
}

ports::Awaitable<void> Worker::wait_drained() {
  const auto give_up = std::chrono::steady_clock::now() + config_->drain_timeout;
  adapters::net::Timer tick(io_.get_executor());
  for (;;) {
    size_t live = 0;
    for (const auto& l : listeners_) live += l->live_connections();
    for (const auto& l : retired_) live += l->live_connections();
    if (live == 0 || std::chrono::steady_clock::now() >= give_up) break;
    tick.expires_after(std::chrono::milliseconds(20));
    co_await tick.async_wait(ports::kUseTuple);
  }
  pool_.close_all();
  if (access_log_) access_log_->flush();
  io_.stop();
}

void Worker::drain() {
  inbox_.post([this] {
    if (draining_) return;
    draining_ = true;
    for (auto& l : listeners_) l->close();
    ports::spawn_guarded(io_.get_executor(), wait_drained(), ports::TaskKind::WorkerTask);
  });
}

void Worker::attach_rate_limiting(ports::RateLimitStore* store, core::config::OnError on_error,
                                  proxy::BanRegistry& bans) {
  context_.rate_limits = store;
  context_.on_store_error = on_error;
  context_.bans = &bans;
  context_.ban_view = std::make_unique<proxy::BanView>(bans);
}

bool Worker::run_on_thread(std::function<void()> task) {
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  inbox_.post([task = std::move(task), done] {
    task();
    done->set_value();
  });
  return finished.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
}

std::vector<std::string> Worker::prepare_listeners(
    std::shared_ptr<const core::config::Config> config, const std::vector<std::string>& names) {
  if (names.empty()) return {};
  auto errors = std::make_shared<std::vector<std::string>>();
  const bool ran = run_on_thread([this, config, names, errors] {
    pinned_configs_.push_back(config);
    for (const auto& listener : config->listeners) {
      if (std::find(names.begin(), names.end(), listener.name) == names.end()) continue;
      open_listeners(listener, prepared_, *errors);
    }
  });
  if (!ran) return {"worker " + std::to_string(index_) + " did not answer"};
  return *errors;
}

void Worker::commit_listeners(std::shared_ptr<const core::config::Config> config,
                              const std::vector<std::string>& removed) {
  run_on_thread([this, config, removed] {
    limits_ = config->limits;
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (std::find(removed.begin(), removed.end(), (*it)->config().name) != removed.end()) {
        (*it)->close();
        retired_.push_back(std::move(*it));
        it = listeners_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& l : prepared_) {
      if (draining_) {
        l->close();
        retired_.push_back(std::move(l));
        continue;
      }
      ports::spawn_guarded(io_.get_executor(), l->serve(), ports::TaskKind::Listener);
      listeners_.push_back(std::move(l));
    }
    prepared_.clear();
  });
}

void Worker::open_listeners(const core::config::Listener& config,
                            std::vector<std::unique_ptr<adapters::net::Listener>>& into,
                            std::vector<std::string>& errors) {
  const adapters::net::ListenerEnv env{io_.get_executor(), limits_, context_, budget_, tls_};
  for (auto& listener : adapters::net::make_listeners(config, env)) {
    auto opened = listener->open();
    if (!opened) errors.push_back(opened.error());
    into.push_back(std::move(listener));
  }
}

void Worker::abort_listeners() {
  run_on_thread([this] {
    for (auto& l : prepared_) l->close();
    prepared_.clear();  // never accepted: nothing points at them
  });
}

void Worker::publish_connection_gauges() {
  // Summed by name: a listener a reload reopened has its old connections in retired_.
  std::vector<std::pair<std::string_view, uint64_t>> by_name;
  auto count = [&](const adapters::net::Listener& l) {
    for (auto& [name, n] : by_name) {
      if (name == l.config().name) {
        n += l.live_connections();
        return;
      }
    }
    by_name.emplace_back(l.config().name, l.live_connections());
  };
  for (const auto& l : listeners_) count(*l);
  for (const auto& l : retired_) count(*l);
  for (const auto& [name, n] : by_name) metrics_.set_listener_connections(name, n);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
  context_.runtime.release();
}

}  // namespace vx::app
