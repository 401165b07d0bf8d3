#include "adapters/net/tcp_listener.h"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <utility>

#include "adapters/net/connection_entry.h"
#include "adapters/net/exact_size_allocator.h"
#include "ports/deadline_clock.h"
#include "ports/guarded_spawn.h"

namespace vx::adapters::net {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

TcpListener::TcpListener(const core::config::Listener& config, const ListenerEnv& env)
    : executor_(env.executor),
      config_(config),
      limits_(env.limits),
      worker_(env.worker),
      budget_(env.budget),
      tls_holder_(env.tls),
      acceptor_(env.executor),
      sweep_timer_(env.executor) {
  if (config.http3) alt_svc_ = "h3=\":" + std::to_string(config.address.port) + "\"";
}

std::shared_ptr<const TlsServerContext> TcpListener::tls_context() {
  if (!config_.tls || !tls_holder_) return nullptr;
  const uint64_t generation = tls_holder_->generation();
  if (generation != tls_generation_) {
    tls_generation_ = generation;
    auto contexts = tls_holder_->load();
    // A reload that drops this listener's TLS keeps the old certificates until restart.
    auto found = contexts ? contexts->find(config_.name) : nullptr;
    if (found) tls_context_ = std::move(found);
  }
  return tls_context_;
}

core::Result<void, std::string> TcpListener::open() {
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

bool TcpListener::banned(const Socket& socket) {
  if (!worker_.ban_view) return false;
  const std::string address = client_address(socket);
  return address.empty() || worker_.ban_view->is_banned(address);  // empty: already gone
}

ConnectionEnv TcpListener::env() {
  return ConnectionEnv{worker_, limits_, config_.name, alt_svc_, &idle_};
}

void TcpListener::spawn(ports::Awaitable<void> task, Slot slot) {
  ports::spawn_guarded(executor_, std::move(task), ports::TaskKind::Connection,
                       [this, slot] { ended(slot); });
}

void TcpListener::ended(Slot slot) {
  if (ParkedConnection* parked = std::exchange(slot->parked, nullptr)) {
    hold(std::unique_ptr<ParkedConnection>(parked), slot);
    return;
  }
  connections_.erase(slot);
  budget_.open.fetch_sub(1, std::memory_order_relaxed);
}

void TcpListener::hold(std::unique_ptr<ParkedConnection> parked, Slot slot) {
  ParkedConnection& p = *parked;
  idle_.parked(p);
  // The handler owns the parked connection: dropped unrun (the loop's teardown), it frees it.
  auto on_readable = [this, slot,
                      parked = std::move(parked)](boost::system::error_code ec) mutable {
    parked->unlink();
    slot->attach(nullptr);
    if (ec || !parked->tcp().is_open()) {  // closed: drained, idle timeout, peer error
      parked->drain();
      parked.reset();
      ended(slot);
      return;
    }
    spawn(parked->resume(*slot, env()), slot);
  };
  // The wait lasts as long as the park: a block of its own size (ExactSizeAllocator).
  p.tcp().async_wait(Socket::wait_read, boost::asio::bind_allocator(ExactSizeAllocator<void>(),
                                                                    std::move(on_readable)));
  slot->attach(&p);  // draining: closes it now, and the wait ends
}

ports::Awaitable<void> TcpListener::sweep_idle() {
  while (!closed_) {
    sweep_timer_.expires_at(idle_.sweep(ports::deadline_now()));
    co_await sweep_timer_.async_wait(ports::kUseTuple);
  }
}

ports::Awaitable<void> TcpListener::serve() {
  co_await (accept_loop() && sweep_idle());
}

ports::Awaitable<void> TcpListener::accept_loop() {
  Timer backoff(executor_);
  while (!closed_) {
    // Over max_connections the kernel backlog holds new connections until one closes.
    if (budget_.open.load(std::memory_order_relaxed) >= budget_.max) {
      backoff.expires_after(std::chrono::milliseconds(10));
      co_await backoff.async_wait(ports::kUseTuple);
      continue;
    }
    auto [ec, socket] = co_await acceptor_.async_accept(
        boost::asio::bind_allocator(ReusedBlockAllocator<void>(accept_op_), ports::kUseTuple));
    if (closed_) break;
    if (ec) {
      // EMFILE and friends: wait instead of spinning; the listener stays open.
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(ports::kUseTuple);
      continue;
    }
    if (banned(socket)) continue;  // SPEC.md bans: refused at accept (the socket closes here)
    auto tls = tls_context();
    if (config_.tls && !tls) continue;  // no certificates published: refuse (closes socket)
    budget_.open.fetch_add(1, std::memory_order_relaxed);
    auto it = connections_.emplace(connections_.end());
    spawn(serve_connection(std::move(socket), *it, env(), std::move(tls)), it);
  }
}

void TcpListener::close() {
  closed_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  sweep_timer_.cancel();
  for (ConnectionSlot& c : connections_) c.drain();
}

}  // namespace vx::adapters::net
