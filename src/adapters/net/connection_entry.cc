#include "adapters/net/connection_entry.h"

#include <openssl/ssl.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "adapters/net/h1_connection.h"
#include "adapters/net/h2_connection.h"

namespace vx::adapters::net {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

void close_tcp(Socket& socket) {
  boost::system::error_code ignored;
  socket.shutdown(asio::socket_base::shutdown_both, ignored);
  socket.close(ignored);
}

// The handshake, bounded by header_timeout (a client that never finishes it is slowloris).
ports::Awaitable<bool> handshake(TlsStream& stream, std::chrono::milliseconds timeout) {
  Timer timer(stream.get_executor());
  timer.expires_after(timeout);
  auto result =
      co_await (stream.async_handshake(asio::ssl::stream_base::server, ports::kUseTuple) ||
                timer.async_wait(ports::kUseTuple));
  if (result.index() != 0) co_return false;
  auto [ec] = std::get<0>(result);
  co_return !ec;
}

bool alpn_is_h2(TlsStream& stream) {
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(stream.native_handle(), &data, &size);
  return size == 2 && data[0] == 'h' && data[1] == '2';
}

// One coroutine per way a connection can go, so that each frame holds only its own connection
// objects: a single coroutine holding all of them (GCC lays out every local that lives across
// a suspension side by side) cost every idle connection ~9 KB.
ports::Awaitable<void> serve_h2c(H1Connection& h1, H1Exit exit, ConnectionSlot& slot,
                                 ConnectionEnv env) {
  // h2c: the HTTP/1.1 connection read the preface or answered the Upgrade with 101.
  std::string initial(h1.buffered());
  H2Connection h2(std::move(h1.stream()), env.worker, env.limits, env.listener, false);
  if (exit == H1Exit::UpgradeH2c) {
    const auto& request = h1.upgrade_request();
    const auto settings = core::http::find_header(request.headers, "http2-settings");
    if (!h2.accept_upgrade(request, settings.value_or(""))) co_return;
  }
  slot.attach(&h2);
  co_await h2.run(std::move(initial));
  slot.attach(nullptr);
}

ports::Awaitable<void> serve_plain(Socket socket, ConnectionSlot& slot, ConnectionEnv env) {
  H1Connection h1(std::move(socket), env.worker, env.limits, env.listener, false, true);
  slot.attach(&h1);
  const H1Exit exit = co_await h1.run();
  slot.attach(nullptr);
  if (exit != H1Exit::Closed) co_await serve_h2c(h1, exit, slot, env);
}

ports::Awaitable<void> serve_tls_h2(TlsStream& stream, ConnectionSlot& slot, ConnectionEnv env) {
  TlsH2Connection h2(std::move(stream), env.worker, env.limits, env.listener, true);
  h2.set_alt_svc(env.alt_svc);
  slot.attach(&h2);
  co_await h2.run({});
  slot.attach(nullptr);
}

ports::Awaitable<void> serve_tls_h1(TlsStream& stream, ConnectionSlot& slot, ConnectionEnv env) {
  TlsH1Connection h1(std::move(stream), env.worker, env.limits, env.listener, true, false);
  h1.set_alt_svc(env.alt_svc);
  slot.attach(&h1);
  co_await h1.run();
  slot.attach(nullptr);
}

ports::Awaitable<void> serve_tls(Socket socket, ConnectionSlot& slot, ConnectionEnv env,
                                 std::shared_ptr<const TlsServerContext> tls) {
  TlsStream stream(std::move(socket), tls->default_context());
  boost::system::error_code ec;
  stream.next_layer().set_option(asio::ip::tcp::no_delay(true), ec);
  if (!co_await handshake(stream, env.limits.header_timeout) || slot.draining) {
    close_tcp(stream.next_layer());
    co_return;
  }
  if (alpn_is_h2(stream)) {
    co_await serve_tls_h2(stream, slot, env);
  } else {
    co_await serve_tls_h1(stream, slot, env);
  }
}

}  // namespace

ports::Awaitable<void> serve_connection(Socket socket, ConnectionSlot& slot, ConnectionEnv env,
                                        std::shared_ptr<const TlsServerContext> tls) {
  if (!tls) return serve_plain(std::move(socket), slot, env);
  return serve_tls(std::move(socket), slot, env, std::move(tls));
}

}  // namespace vx::adapters::net
