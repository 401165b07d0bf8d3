// The byte streams a downstream connection runs over: plain TCP, or TLS on top of it. The
// connection classes are templates over these, so plain TCP pays no indirection per read.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>

#include "adapters/net/tls_stream.h"
#include "ports/awaitable_result.h"

namespace vx::adapters::net {

using Socket = TlsStream::Socket;
using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>,
                                                ports::Executor>;

// The TCP socket under a stream (options, cancel, close).
inline Socket& tcp_of(Socket& s) {
  return s;
}
inline Socket& tcp_of(TlsStream& s) {
  return s.next_layer();
}

// The wait for a stream's next bytes, holding no buffer meanwhile (an idle connection lends
// its read buffer back to the pool while it waits): deferred operations completing with
// std::tuple<error_code>.
inline auto wait_readable(Socket& s) {
  return s.async_wait(Socket::wait_read, ports::kDeferTuple);
}
inline auto wait_readable(TlsStream& s) {
  return s.async_wait_readable(ports::kDeferTuple);
}

// The client's address as the rest of Vortex names it (logs, x-forwarded-for, rate-limit keys,
// bans): an IPv4 client of a dual-stack listener as "a.b.c.d", not "::ffff:a.b.c.d".
// Empty when the peer is already gone.
inline std::string client_address(const Socket& socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) return {};
  auto address = remote.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

// DownstreamConnection: what a listener needs of any live connection, whatever its protocol.
class DownstreamConnection {
 public:
  virtual ~DownstreamConnection() = default;
  // Drain: an idle connection closes now, a busy one after its current work.
  virtual void drain() = 0;
};

struct ParkedConnection;  // adapters/net/idle_connections.h

// ConnectionSlot: one accepted connection as its listener tracks it; the object serving it
// changes on the way (TLS handshake, then HTTP/1.1 or HTTP/2; h2c hands over from HTTP/1.1;
// parked between requests, then HTTP/1.1 again).
struct ConnectionSlot {
  DownstreamConnection* current = nullptr;
  // Set (owning) by a serving coroutine that ends by parking its connection: the listener
  // takes it when the coroutine has ended and keeps the connection without one.
  ParkedConnection* parked = nullptr;
  bool draining = false;

  void attach(DownstreamConnection* connection) {
    current = connection;
    if (draining && connection) connection->drain();
  }
  void drain() {
    draining = true;
    if (current) current->drain();
  }
};

}  // namespace vx::adapters::net
