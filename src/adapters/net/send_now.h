// send_now: writes what the kernel takes right away, without the reactor. A response or a
// forwarded request almost always fits in the socket's send buffer; then the write costs one
// sendmsg, where async_write would also queue an operation, post its completion through the
// scheduler and resume the coroutine from there (about a thousand instructions per write,
// measured with callgrind). Only when bytes remain does the caller fall back to async_write.
//
// A write that went at once is followed, before the next read, by ports::yield_after_send():
// that read is nearly always of the peer's answer, which right now would find nothing (a failed
// recv, a syscall wasted per write). After the other ready connections' turn the answer is
// usually there and the read completes at once; the yield costs one posted handler.
//
// TLS streams are never written here: their bytes must go through the TLS engine.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cerrno>
#include <optional>
#include <tuple>
#include <vector>

#include "adapters/net/tls_stream.h"
#include "ports/awaitable_result.h"

namespace vx::adapters::net {

using SendResult = std::tuple<boost::system::error_code, size_t>;

// Everything sent (or a hard error): the result, as async_write would have given it.
// Otherwise nullopt, and `buffers` is trimmed to the bytes still to send.
inline std::optional<SendResult> send_now(
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, ports::Executor>& socket,
    std::vector<boost::asio::const_buffer>& buffers) {
  constexpr size_t kMaxPieces = 64;  // more go out with the asynchronous rest
  iovec pieces[kMaxPieces];
  const size_t count = std::min(buffers.size(), kMaxPieces);
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    pieces[i] = {const_cast<void*>(buffers[i].data()), buffers[i].size()};
    total += buffers[i].size();
  }
  msghdr message{};
  message.msg_iov = pieces;
  message.msg_iovlen = count;
  const ssize_t sent = ::sendmsg(socket.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return std::nullopt;
    return SendResult{boost::system::error_code(errno, boost::system::system_category()), 0};
  }
  const auto n = static_cast<size_t>(sent);
  if (n == total && count == buffers.size()) return SendResult{boost::system::error_code{}, n};
  // A short write: drop the pieces that went, cut into the one that went in part.
  size_t skip = n;
  size_t whole = 0;
  while (whole < buffers.size() && skip >= buffers[whole].size()) skip -= buffers[whole++].size();
  buffers.erase(buffers.begin(), buffers.begin() + static_cast<std::ptrdiff_t>(whole));
  if (skip > 0) buffers.front() += skip;
  return std::nullopt;
}

// TLS writes go through OpenSSL's records, never here (the caller's async write takes them).
inline std::optional<SendResult> send_now(TlsStream&, std::vector<boost::asio::const_buffer>&) {
  return std::nullopt;
}

template <typename Next>
std::optional<SendResult> send_now(boost::asio::ssl::stream<Next>&,
                                   std::vector<boost::asio::const_buffer>&) {
  return std::nullopt;
}

}  // namespace vx::adapters::net
