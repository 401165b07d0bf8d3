#include "adapters/upstream/h1_upstream_pool.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <type_traits>

#include "adapters/upstream/client_tls_context.h"
#include "ports/deadline_clock.h"

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

using Timer =
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, ports::Executor>;

// The idle list a target's connections go to. TLS connections are also keyed by the
// cluster's TLS context, so a reload that changed tls.* never reuses one made with the old.
template <typename Stream>
uint64_t pool_key(const ports::UpstreamTarget& target) {
  if constexpr (std::is_same_v<Stream, Socket>) {
    return target.endpoint_id;
  } else {
    return target.endpoint_id ^ (reinterpret_cast<uintptr_t>(target.tls) * 0x9E3779B97F4A7C15ULL);
  }
}

// Each address gets the whole connect_timeout.
ports::AsyncResult<Socket> connect_tcp(ports::Executor executor,
                                       const ports::UpstreamTarget& target) {
  Error last{ErrorKind::UpstreamConnectRefused, "no address to connect to"};
  for (const auto& address : target.addresses) {
    Socket socket(executor);
    Timer timer(executor, target.connect_timeout);
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

}  // namespace

template <typename Stream>
BasicH1UpstreamPool<Stream>::BasicH1UpstreamPool(ports::Executor executor) : executor_(executor) {}

template <typename Stream>
BasicH1UpstreamPool<Stream>::~BasicH1UpstreamPool() = default;

template <typename Stream>
void BasicH1UpstreamPool<Stream>::release(ports::UpstreamStream* stream, bool reusable) {
  auto* connection = static_cast<BasicH1UpstreamConnection<Stream>*>(stream);
  BasicH1UpstreamPool& pool = connection->pool();
  std::unique_ptr<BasicH1UpstreamConnection<Stream>> owned(connection);
  if (!reusable || !connection->clean_end() || pool.closed_) return;  // closes it
  auto it = pool.idle_.find(connection->endpoint_key());
  if (it == pool.idle_.end() || it->second.connections.size() >= it->second.max_idle) return;
  connection->idle_since = ports::deadline_now();
  connection->go_idle();
  it->second.connections.push_back(std::move(owned));
}

template <typename Stream>
ports::AsyncResult<Stream> BasicH1UpstreamPool<Stream>::connect(
    const ports::UpstreamTarget& target) {
  // connect_timeout bounds TCP connect and TLS handshake together (SPEC.md
  // connect_timeout_ms); only an endpoint with several addresses may take longer, each
  // address getting the whole timeout for its TCP connect as before.
  if constexpr (std::is_same_v<Stream, Socket>) {
    co_return co_await connect_tcp(executor_, target);
  } else {
    const auto deadline = std::chrono::steady_clock::now() + target.connect_timeout;
    const auto* tls = static_cast<const ClientTlsContext*>(target.tls);
    if (!tls) {
      co_return core::unexpected(Error{ErrorKind::Internal, "cluster has no TLS context"});
    }
    auto socket = co_await connect_tcp(executor_, target);
    if (!socket) co_return core::unexpected(socket.error());
    TlsSocket stream(std::move(*socket), tls->context());
    if (!tls->prepare(stream.native_handle(), target.server_name)) {
      co_return core::unexpected(
          Error{ErrorKind::UpstreamConnectRefused, "upstream TLS setup failed"});
    }
    Timer timer(executor_, deadline);
    auto outcome =
        co_await (stream.async_handshake(asio::ssl::stream_base::client, ports::kUseTuple) ||
                  timer.async_wait(ports::kUseTuple));
    if (outcome.index() == 1) {
      co_return core::unexpected(
          Error{ErrorKind::UpstreamConnectTimeout, "upstream TLS handshake timed out"});
    }
    auto [ec] = std::get<0>(outcome);
    if (ec) {
      co_return core::unexpected(Error{ErrorKind::UpstreamConnectRefused,
                                       "upstream TLS handshake or certificate check failed"});
    }
    if (!tls->negotiated_ok(stream.native_handle())) {
      co_return core::unexpected(
          Error{ErrorKind::UpstreamConnectRefused, "upstream did not negotiate http/1.1 (ALPN)"});
    }
    co_return std::move(stream);
  }
}

template <typename Stream>
ports::UpstreamLease BasicH1UpstreamPool<Stream>::take_idle(const ports::UpstreamTarget& target) {
  IdleList& list = idle_[pool_key<Stream>(target)];
  list.max_idle = target.max_idle;
  list.idle_timeout = target.idle_timeout;
  const auto now = ports::deadline_now();  // idle ages are compared at tick resolution
  while (!list.connections.empty()) {
    std::unique_ptr<BasicH1UpstreamConnection<Stream>> candidate =
        std::move(list.connections.back());
    list.connections.pop_back();
    const auto idle_for = now - candidate->idle_since;
    if (idle_for > list.idle_timeout ||
        (idle_for > kTrustIdleFor && !candidate->alive_while_idle())) {
      continue;  // closed as it goes out of scope
    }
    candidate->start_exchange();
    candidate->mark_reused();
    return ports::UpstreamLease(candidate.release(), &BasicH1UpstreamPool::release);
  }
  return {};
}

template <typename Stream>
ports::AsyncResult<ports::UpstreamLease> BasicH1UpstreamPool<Stream>::acquire(
    const ports::UpstreamTarget& target, bool fresh_only) {
  if (!fresh_only) {
    if (auto idle = take_idle(target)) co_return std::move(idle);
  }
  const uint64_t key = pool_key<Stream>(target);
  IdleList& list = idle_[key];  // records the target's limits for release()
  list.max_idle = target.max_idle;
  list.idle_timeout = target.idle_timeout;
  auto socket = co_await connect(target);
  if (!socket) co_return core::unexpected(socket.error());
  auto* connection = new BasicH1UpstreamConnection<Stream>(std::move(*socket), *this, key);
  connection->start_exchange();
  co_return ports::UpstreamLease(connection, &BasicH1UpstreamPool::release);
}

template <typename Stream>
void BasicH1UpstreamPool<Stream>::sweep_idle() {
  const auto now = ports::deadline_now();
  for (auto& [key, list] : idle_) {
    std::erase_if(list.connections,
                  [&](const std::unique_ptr<BasicH1UpstreamConnection<Stream>>& c) {
                    return now - c->idle_since > list.idle_timeout || !c->alive_while_idle();
                  });
  }
}

template <typename Stream>
void BasicH1UpstreamPool<Stream>::close_all() {
  closed_ = true;
  idle_.clear();
}

template <typename Stream>
size_t BasicH1UpstreamPool<Stream>::idle_count() const {
  size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.connections.size();
  return n;
}

template class BasicH1UpstreamPool<Socket>;
template class BasicH1UpstreamPool<TlsSocket>;

}  // namespace vx::adapters::upstream
