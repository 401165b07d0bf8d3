#include "adapters/upstream/h1_upstream_pool.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace vx::adapters::upstream {

using core::http::Error;
using core::http::ErrorKind;
namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

// A connection back in the pool for less than this is reused without the non-blocking peek
// that would notice an upstream's close: under load that peek is one syscall per request (a
// sixth of the total), and servers do not close idle connections this fast (gunicorn, the
// quickest common default, waits 2 s). The rare close inside the window is the keep-alive race
// every proxy has; idempotent requests retry it on a fresh connection.
constexpr std::chrono::milliseconds kTrustIdleFor{500};

}  // namespace

H1UpstreamPool::H1UpstreamPool(ports::Executor executor) : executor_(executor) {}

H1UpstreamPool::~H1UpstreamPool() = default;

void H1UpstreamPool::release(ports::UpstreamStream* stream, bool reusable) {
  auto* connection = static_cast<H1UpstreamConnection*>(stream);
  H1UpstreamPool& pool = connection->pool();
  std::unique_ptr<H1UpstreamConnection> owned(connection);
  if (!reusable || !connection->clean_end() || pool.closed_) return;  // closes it
  auto it = pool.idle_.find(connection->endpoint_key());
  if (it == pool.idle_.end() || it->second.connections.size() >= it->second.max_idle) return;
  connection->idle_since = std::chrono::steady_clock::now();
  it->second.connections.push_back(std::move(owned));
}

ports::AsyncResult<Socket> H1UpstreamPool::connect(const ports::UpstreamTarget& target) {
  Error last{ErrorKind::UpstreamConnectRefused, "no address to connect to"};
  for (const auto& address : target.addresses) {
    Socket socket(executor_);
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, ports::Executor>
        timer(executor_, target.connect_timeout);
    auto outcome = co_await (socket.async_connect(address, ports::kUseTuple) ||
                             timer.async_wait(ports::kUseTuple));
    if (outcome.index() == 1) {
      last = {ErrorKind::UpstreamConnectTimeout, "upstream connect timed out"};
      continue;
    }
    auto [ec] = std::get<0>(outcome);
    if (ec) {
      last = {ErrorKind::UpstreamConnectRefused, "upstream refused the connection"};
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    co_return std::move(socket);
  }
  co_return core::unexpected(last);
}

ports::AsyncResult<ports::UpstreamLease> H1UpstreamPool::acquire(
    const ports::UpstreamTarget& target, bool fresh_only) {
  IdleList& list = idle_[target.endpoint_id];
  list.max_idle = target.max_idle;
  list.idle_timeout = target.idle_timeout;
  if (!fresh_only) {
    const auto now = std::chrono::steady_clock::now();
    while (!list.connections.empty()) {
      std::unique_ptr<H1UpstreamConnection> candidate = std::move(list.connections.back());
      list.connections.pop_back();
      const auto idle_for = now - candidate->idle_since;
      if (idle_for > list.idle_timeout ||
          (idle_for > kTrustIdleFor && !candidate->alive_while_idle())) {
        continue;  // closed as it goes out of scope
      }
      candidate->start_exchange();
      candidate->mark_reused();
      co_return ports::UpstreamLease(candidate.release(), &H1UpstreamPool::release);
    }
  }
  auto socket = co_await connect(target);
  if (!socket) co_return core::unexpected(socket.error());
  auto* connection = new H1UpstreamConnection(std::move(*socket), *this, target.endpoint_id);
  connection->start_exchange();
  co_return ports::UpstreamLease(connection, &H1UpstreamPool::release);
}

void H1UpstreamPool::sweep_idle() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [key, list] : idle_) {
    std::erase_if(list.connections, [&](const std::unique_ptr<H1UpstreamConnection>& c) {
      return now - c->idle_since > list.idle_timeout || !c->alive_while_idle();
    });
  }
}

void H1UpstreamPool::close_all() {
  closed_ = true;
  idle_.clear();
}

size_t H1UpstreamPool::idle_count() const {
  size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.connections.size();
  return n;
}

}  // namespace vx::adapters::upstream
