// recv_now: reads what the kernel holds right now, without the reactor: the counterpart of
// send_now for a read expected to find its bytes (the peer's answer, after the yield that
// follows a write). A hit costs one recv; async_read_some would also queue an operation and
// resume the coroutine through the scheduler, and the coroutine reading a whole head costs a
// frame of its own. A miss costs one failed recv and the caller waits with async_read_some.
//
// TLS streams are read through OpenSSL, which reads the socket itself (adapters/net/tls_stream.h).
#pragma once

#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cerrno>
#include <optional>
#include <tuple>

#include "adapters/net/tls_stream.h"
#include "ports/awaitable_result.h"

namespace vx::adapters::net {

using RecvResult = std::tuple<boost::system::error_code, size_t>;

// What async_read_some would have completed with (eof when the peer has closed); nullopt when
// nothing is there yet.
inline std::optional<RecvResult> recv_now(
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, ports::Executor>& socket,
    boost::asio::mutable_buffer into) {
  const ssize_t n = ::recv(socket.native_handle(), into.data(), into.size(), MSG_DONTWAIT);
  if (n > 0) return RecvResult{boost::system::error_code{}, static_cast<size_t>(n)};
  if (n == 0) return RecvResult{boost::asio::error::eof, 0};
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return std::nullopt;
  return RecvResult{boost::system::error_code(errno, boost::system::system_category()), 0};
}

// asio::ssl::stream (the upstream side) is never read here: its bytes go through its engine.
template <typename Next>
std::optional<RecvResult> recv_now(boost::asio::ssl::stream<Next>&, boost::asio::mutable_buffer) {
  return std::nullopt;
}

// TLS: what OpenSSL has decrypted or can read and decrypt now (no record buffer is held after).
inline std::optional<RecvResult> recv_now(TlsStream& stream, boost::asio::mutable_buffer into) {
  return stream.read_now(into.data(), into.size());
}

}  // namespace vx::adapters::net
