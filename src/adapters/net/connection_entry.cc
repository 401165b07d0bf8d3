#include "adapters/net/connection_entry.h"

#include <openssl/ssl.h>

#include <type_traits>

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

// An HTTP/2 connection served until it ends or parks; parked, the listener keeps the object.
template <typename Stream>
ports::Awaitable<void> serve_h2(std::unique_ptr<BasicH2Connection<Stream>> h2, std::string initial,
                                ConnectionSlot& slot, ConnectionEnv env);

// One coroutine per way a connection can go, so that each frame holds only its own connection
// objects: a single coroutine holding all of them (GCC lays out every local that lives across
// a suspension side by side) cost every idle connection ~9 KB.
ports::Awaitable<void> serve_h2c(H1Connection& h1, H1Exit exit, ConnectionSlot& slot,
                                 ConnectionEnv env) {
  // h2c: the HTTP/1.1 connection read the preface or answered the Upgrade with 101.
  std::string initial(h1.buffered());
  auto h2 = std::make_unique<H2Connection>(std::move(h1.stream()), env.worker, env.limits,
                                           env.listener, false);
  if (exit == H1Exit::UpgradeH2c) {
    const auto& request = h1.upgrade_request();
    const auto settings = core::http::find_header(request.headers, "http2-settings");
    if (!h2->accept_upgrade(request, settings.value_or(""))) co_return;
  }
  co_await serve_h2(std::move(h2), std::move(initial), slot, env);
}

ports::Awaitable<void> serve_plain(Socket socket, ConnectionSlot& slot, ConnectionEnv env,
                                   bool resumed);
ports::Awaitable<void> serve_tls_h1(TlsStream stream, ConnectionSlot& slot, ConnectionEnv env,
                                    bool resumed);

// An HTTP/1.1 connection between requests, parked: the stream alone (issue 19).
template <typename Stream>
struct Parked final : ParkedConnection {
  Stream stream;

  Parked(Stream s, std::chrono::steady_clock::time_point deadline)
      : ParkedConnection(deadline), stream(std::move(s)) {}
  Socket& tcp() override { return tcp_of(stream); }
  ports::Awaitable<void> resume(ConnectionSlot& slot, const ConnectionEnv& env) override;
};

// An HTTP/2 connection with no stream, parked: its coroutines ended, the connection object
// (nghttp2's session and the stream) kept as it is.
template <typename Stream>
struct ParkedH2 final : ParkedConnection {
  std::unique_ptr<BasicH2Connection<Stream>> h2;

  explicit ParkedH2(std::unique_ptr<BasicH2Connection<Stream>> c)
      : ParkedConnection(c->parked_deadline()), h2(std::move(c)) {}
  Socket& tcp() override { return h2->tcp(); }
  ports::Awaitable<void> resume(ConnectionSlot& slot, const ConnectionEnv& env) override {
    return serve_h2(std::move(h2), {}, slot, env);
  }
  void drain() override { h2->close_parked(); }
};

template <typename Stream>
ports::Awaitable<void> serve_h2(std::unique_ptr<BasicH2Connection<Stream>> h2, std::string initial,
                                ConnectionSlot& slot, ConnectionEnv env) {
  if (env.idle) h2->allow_parking();
  slot.attach(h2.get());
  const bool parked = co_await h2->run(std::move(initial));
  slot.attach(nullptr);
  if (parked) slot.parked = new ParkedH2<Stream>(std::move(h2));
}

ports::Awaitable<void> serve_plain(Socket socket, ConnectionSlot& slot, ConnectionEnv env,
                                   bool resumed) {
  H1Connection h1(std::move(socket), env.worker, env.limits, env.listener, false, true);
  if (env.idle) h1.allow_parking(*env.idle);
  if (resumed) h1.resumed();
  slot.attach(&h1);
  const H1Exit exit = co_await h1.run();
  slot.attach(nullptr);
  if (exit == H1Exit::Parked) {
    slot.parked = new Parked<Socket>(std::move(h1.stream()), h1.parked_deadline());
    co_return;
  }
  if (exit != H1Exit::Closed) co_await serve_h2c(h1, exit, slot, env);
}

// An idle HTTP/2 client holds this object for minutes; past 1024 bytes jemalloc rounds it up to
// its 1280-byte size class (docs/BENCHMARKS.md §12).
static_assert(sizeof(TlsH2Connection) <= 1024);

ports::Awaitable<void> serve_tls_h2(TlsStream& stream, ConnectionSlot& slot, ConnectionEnv env) {
  auto h2 = std::make_unique<TlsH2Connection>(std::move(stream), env.worker, env.limits,
                                              env.listener, true);
  h2->set_alt_svc(env.alt_svc);
  co_await serve_h2(std::move(h2), {}, slot, env);
}

ports::Awaitable<void> serve_tls_h1(TlsStream stream, ConnectionSlot& slot, ConnectionEnv env,
                                    bool resumed) {
  TlsH1Connection h1(std::move(stream), env.worker, env.limits, env.listener, true, false);
  h1.set_alt_svc(env.alt_svc);
  if (env.idle) h1.allow_parking(*env.idle);
  if (resumed) h1.resumed();
  slot.attach(&h1);
  const H1Exit exit = co_await h1.run();
  slot.attach(nullptr);
  if (exit == H1Exit::Parked) {
    slot.parked = new Parked<TlsStream>(std::move(h1.stream()), h1.parked_deadline());
  }
}

template <typename Stream>
ports::Awaitable<void> Parked<Stream>::resume(ConnectionSlot& slot, const ConnectionEnv& env) {
  if constexpr (std::is_same_v<Stream, Socket>) {
    return serve_plain(std::move(stream), slot, env, true);
  } else {
    return serve_tls_h1(std::move(stream), slot, env, true);
  }
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
    co_await serve_tls_h1(std::move(stream), slot, env, false);
  }
}

}  // namespace

ports::Awaitable<void> serve_connection(Socket socket, ConnectionSlot& slot, ConnectionEnv env,
                                        std::shared_ptr<const TlsServerContext> tls) {
  if (!tls) return serve_plain(std::move(socket), slot, env, false);
  return serve_tls(std::move(socket), slot, env, std::move(tls));
}

}  // namespace vx::adapters::net
