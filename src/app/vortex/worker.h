// Worker: one thread with its own io_context, listeners (SO_REUSEPORT), upstream pool, random
// source and access log. Created and opened on the main thread, then run on its own thread;
// other threads talk to it only through its inbox (drain, reload steps).
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/net/connection_budget.h"
#include "adapters/net/listener.h"
#include "adapters/net/tls_contexts.h"
#include "adapters/telemetry/json_access_log.h"
#include "adapters/upstream/upstream_pools.h"
#include "app/vortex/worker_inbox.h"
#include "core/ports/random.h"
#include "proxy/runtime_holder.h"
#include "proxy/worker_context.h"
#include "proxy/worker_metrics.h"

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
  // Waits for the thread to end, then drops the snapshot it held.
  void join();
  // Before open(): the TLS certificates of this worker's TLS listeners (swapped on reload).
  void attach_tls(const adapters::net::TlsContextsHolder& tls) { tls_ = &tls; }
  // Before start(): where this worker's requests ask for rate-limit decisions, and the bans.
  void attach_rate_limiting(ports::RateLimitStore* store, core::config::OnError on_error,
                            proxy::BanRegistry& bans);
  boost::asio::io_context& io() { return io_; }

  // Reload (control thread, while the worker runs; each call waits for the worker's thread).
  // prepare_listeners binds the listeners of `config` named in `names` without accepting yet
  // and returns every error; then either commit_listeners starts them, closes the listeners
  // named in `removed` (their connections drain) and applies config's limits to new
  // connections, or abort_listeners closes the prepared ones.
  std::vector<std::string> prepare_listeners(std::shared_ptr<const core::config::Config> config,
                                             const std::vector<std::string>& names);
  void commit_listeners(std::shared_ptr<const core::config::Config> config,
                        const std::vector<std::string>& removed);
  void abort_listeners();
  // This worker's metrics shard (read by the scrape and GetStats on other threads).
  const proxy::WorkerMetrics& metrics() const { return metrics_; }

  unsigned index() const { return index_; }
  proxy::WorkerContext& context() { return context_; }
  // Runs `task` on the worker's thread and waits for it; false when the worker did not run it
  // within 10 s (stopped or stuck). Any thread but the worker's; the worker must be started.
  bool run_on_thread(std::function<void()> task);
  // Runs `task` on the worker's thread without waiting. Any thread.
  void post(std::function<void()> task) { inbox_.post(std::move(task)); }
  // Before start(): `task` runs on the worker's thread before it accepts any connection (the
  // Wasm plugins' instances are made there).
  void before_accepting(std::function<void()> task) {
    before_accepting_.push_back(std::move(task));
  }

 private:
  ports::Awaitable<void> housekeeping();
  ports::Awaitable<void> wait_drained();
  void publish_connection_gauges();
  // Makes and binds the listeners `config` needs (make_listeners), appending every one to
  // `into`, bound or not (whoever closes `into` closes them all), and each bind error to
  // `errors`. The worker's thread, or before start().
  void open_listeners(const core::config::Listener& config,
                      std::vector<std::unique_ptr<adapters::net::Listener>>& into,
                      std::vector<std::string>& errors);

  unsigned index_;
  std::shared_ptr<const core::config::Config> config_;  // what the listeners were opened with
  // The io_context's shutdown (which destroys coroutines still suspended, e.g. requests cut
  // off by the drain timeout) must run while the pool and listeners they point at still live,
  // so ~Worker calls it before the members are destroyed.
  struct IoContext : boost::asio::io_context {
    using boost::asio::execution_context::shutdown;
    using boost::asio::io_context::io_context;
  };
  // Everything on a worker's io_context happens on the worker's thread (other threads go
  // through inbox_), so it runs without locks: no scheduler mutex around each handler, no
  // per-socket mutex (about ten lock pairs per proxied request).
  IoContext io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  WorkerInbox inbox_{io_.get_executor()};
  core::Xoshiro256 random_;
  adapters::upstream::UpstreamPools pool_;
  std::unique_ptr<adapters::telemetry::JsonAccessLog> access_log_;
  proxy::WorkerContext context_;
  adapters::net::ConnectionBudget& budget_;
  std::vector<std::unique_ptr<adapters::net::Listener>> listeners_;
  // What every listener's connections read: config_'s limits, replaced by a reload (the
  // worker's thread only).
  core::config::Limits limits_;
  // Reload: bound but not accepting yet; closed by a reload, kept until the worker ends
  // (their connections and accept loops point at them); configs new listeners point into.
  std::vector<std::unique_ptr<adapters::net::Listener>> prepared_;
  std::vector<std::unique_ptr<adapters::net::Listener>> retired_;
  std::vector<std::shared_ptr<const core::config::Config>> pinned_configs_;
  proxy::WorkerMetrics metrics_;
  bool metrics_on_ = false;
  const adapters::net::TlsContextsHolder* tls_ = nullptr;
  std::vector<std::function<void()>> before_accepting_;
  std::thread thread_;
  bool draining_ = false;
};

}  // namespace vx::app
