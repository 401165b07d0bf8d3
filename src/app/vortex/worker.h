// Worker: one thread with its own io_context, listeners (SO_REUSEPORT), upstream pool, random
// source and access log. Created and opened on the main thread, then run on its own thread;
// other threads talk to it only through post() (drain).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/net/listener.h"
#include "adapters/telemetry/json_access_log.h"
#include "adapters/upstream/h1_upstream_pool.h"
#include "core/ports/random.h"
#include "proxy/runtime_holder.h"
#include "proxy/worker_context.h"

namespace vx::app {

class Worker {
 public:
  Worker(unsigned index, const proxy::RuntimeHolder& runtime,
         std::shared_ptr<const core::config::Config> config,
         adapters::net::ConnectionBudget& budget);
  ~Worker();

  // Binds every listener and opens the access log; on failure returns the messages.
  core::Result<void, std::vector<std::string>> open();
  void start(bool pin_cpu);
  // Any thread: stop accepting, let connections finish within drain_timeout, then stop.
  void drain();
  void join();
  // Before start(): where this worker's requests ask for rate-limit decisions, and the bans.
  void attach_rate_limiting(ports::RateLimitStore* store, core::config::OnError on_error,
                            proxy::BanRegistry& bans);
  boost::asio::io_context& io() { return io_; }

 private:
  ports::Awaitable<void> housekeeping();
  ports::Awaitable<void> wait_drained();

  unsigned index_;
  std::shared_ptr<const core::config::Config> config_;  // what the listeners were opened with
  boost::asio::io_context io_{1};
  core::Xoshiro256 random_;
  adapters::upstream::H1UpstreamPool pool_;
  std::unique_ptr<adapters::telemetry::JsonAccessLog> access_log_;
  proxy::WorkerContext context_;
  adapters::net::ConnectionBudget& budget_;
  std::vector<std::unique_ptr<adapters::net::Listener>> listeners_;
  std::thread thread_;
  bool draining_ = false;
};

}  // namespace vx::app
