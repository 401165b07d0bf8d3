#include "adapters/net/listener.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "adapters/net/spawn.h"

namespace vx::adapters::net {

namespace asio = boost::asio;

Listener::Listener(ports::Executor executor, const core::config::Listener& config,
                   const core::config::Limits& limits, proxy::WorkerContext& worker,
                   ConnectionBudget& budget)
    : executor_(executor),
      config_(config),
      limits_(limits),
      worker_(worker),
      budget_(budget),
      acceptor_(executor) {}

core::Result<void, std::string> Listener::open() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(config_.address.host, ec);
  if (ec)
    return core::unexpected("listener " + config_.name + ": bad address " + config_.address.text);
  const asio::ip::tcp::endpoint endpoint(address, config_.address.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    const int one = 1;
    if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::unexpected("listener " + config_.name + ": cannot bind " + config_.address.text +
                            ": " + ec.message());
  }
  return {};
}

ports::Awaitable<void> Listener::accept_loop() {
  Timer backoff(executor_);
  while (!closed_) {
    // Over max_connections the kernel backlog holds new connections until one closes.
    if (budget_.open.load(std::memory_order_relaxed) >= budget_.max) {
      backoff.expires_after(std::chrono::milliseconds(10));
      co_await backoff.async_wait(ports::kUseTuple);
      continue;
    }
    auto [ec, socket] = co_await acceptor_.async_accept(ports::kUseTuple);
    if (closed_) break;
    if (ec) {
      // EMFILE and friends: wait instead of spinning; the listener stays open.
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(ports::kUseTuple);
      continue;
    }
    budget_.open.fetch_add(1, std::memory_order_relaxed);
    auto connection = std::make_unique<H1Connection>(std::move(socket), worker_, limits_,
                                                     config_.tls.has_value());
    H1Connection* raw = connection.get();
    auto it = connections_.insert(connections_.end(), raw);
    spawn_guarded(
        executor_,
        [](std::unique_ptr<H1Connection> c) -> ports::Awaitable<void> {
          co_await c->run();
        }(std::move(connection)),
        [this, it] {
          connections_.erase(it);
          budget_.open.fetch_sub(1, std::memory_order_relaxed);
        });
  }
}

void Listener::close() {
  closed_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (H1Connection* c : connections_) c->drain();
}

}  // namespace vx::adapters::net
