// A connected TCP pair on loopback, for tests of the raw socket paths (send_now, recv_now).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "ports/awaitable_result.h"

namespace vx::test {

struct LoopbackPair {
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, ports::Executor>;

  boost::asio::io_context io;
  Socket writer{io.get_executor()};
  Socket reader{io.get_executor()};

  LoopbackPair() {
    boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, ports::Executor> acceptor(
        io.get_executor(), {boost::asio::ip::make_address("127.0.0.1"), 0});
    writer.connect(acceptor.local_endpoint());
    reader = acceptor.accept();
  }
};

}  // namespace vx::test
