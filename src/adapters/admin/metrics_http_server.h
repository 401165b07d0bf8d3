// MetricsHttpServer: the metrics endpoint (SPEC.md §6, metrics.address) on its own side thread
// with plain blocking sockets, one request per connection: GET /metrics (Prometheus text),
// /healthz (200 while the process runs), /readyz (200 when MetricsSource::ready(), else 503).
// Far off the request path: a slow scraper only delays other scrapes.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "adapters/admin/metrics_source.h"
#include "core/config/config.h"
#include "core/result.h"

namespace vx::adapters::admin {

class MetricsHttpServer {
 public:
  // Binds `address` (an IP literal and port) and starts the thread. `source` must outlive the
  // server. Refuses with "metrics.address ADDR: cannot bind: why".
  static core::Result<std::unique_ptr<MetricsHttpServer>, std::string> start(
      const core::config::SocketAddress& address, MetricsSource& source);
  ~MetricsHttpServer();

  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Stops accepting and joins the thread (a request being answered is finished first).
  void stop();

 private:
  MetricsHttpServer(int listen_fd, int wake_read, int wake_write, MetricsSource& source);
  void serve();
  void answer(int fd);

  int listen_fd_;
  int wake_read_;  // a pipe: stop() writes a byte so poll() returns
  int wake_write_;
  MetricsSource& source_;
  std::thread thread_;
};

}  // namespace vx::adapters::admin
