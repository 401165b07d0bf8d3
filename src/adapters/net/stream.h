// The byte streams a downstream connection runs over: plain TCP, or TLS on top of it. The
// connection classes are templates over these, so plain TCP pays no indirection per read.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "ports/awaitable_result.h"

namespace vx::adapters::net {

using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, ports::Executor>;
using TlsStream = boost::asio::ssl::stream<Socket>;
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

// DownstreamConnection: what a listener needs of any live connection, whatever its protocol.
class DownstreamConnection {
 public:
  virtual ~DownstreamConnection() = default;
  // Drain: an idle connection closes now, a busy one after its current work.
  virtual void drain() = 0;
};

// ConnectionSlot: one accepted connection as its listener tracks it; the object serving it
// changes on the way (TLS handshake, then HTTP/1.1 or HTTP/2; h2c hands over from HTTP/1.1).
struct ConnectionSlot {
  DownstreamConnection* current = nullptr;
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
