// TlsStream: TLS over a TCP socket, OpenSSL reading and writing the descriptor itself
// (SSL_set_fd), driven by Asio readiness waits. It replaces asio::ssl::stream for memory:
// that one keeps four buffers of ~17 KB per connection for its whole life (its own input and
// output buffers and both halves of a BIO pair), plus OpenSSL's read and write buffers, ~100 KB
// on a connection that is only waiting. Here OpenSSL runs with SSL_MODE_RELEASE_BUFFERS, so an
// idle connection holds the SSL object and no record buffer; the bytes also skip two copies.
//
// The operations are those Asio's stream algorithms and the connections use (async_handshake,
// async_read_some, async_write_some, the TCP socket beneath), plus async_wait_readable(): wait
// until a read would find bytes, holding no buffer meanwhile. Operations complete through the
// executor, never inline; cancellation (per operation, or cancel() on the socket) ends the wait
// in progress. One read and one write may be in flight at once (HTTP/2's reader and writer),
// as OpenSSL allows on one thread.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <cerrno>
#include <optional>
#include <tuple>
#include <utility>

#include "ports/awaitable_result.h"

namespace vx::adapters::net {

class TlsStream {
 public:
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, ports::Executor>;
  using executor_type = ports::Executor;
  using next_layer_type = Socket;
  using lowest_layer_type = Socket;

  TlsStream(Socket socket, boost::asio::ssl::context& context);
  TlsStream(TlsStream&& other) noexcept
      : socket_(std::move(other.socket_)), ssl_(std::exchange(other.ssl_, nullptr)) {}
  TlsStream& operator=(TlsStream&&) = delete;
  ~TlsStream();

  executor_type get_executor() { return socket_.get_executor(); }
  Socket& next_layer() { return socket_; }
  Socket& lowest_layer() { return socket_; }
  SSL* native_handle() { return ssl_; }

  // One step of OpenSSL's work: done (with its error and byte count), or the socket must become
  // readable / writable first.
  enum class Want : uint8_t { Nothing, Read, Write };
  struct Step {
    Want want;
    boost::system::error_code ec;
    size_t bytes;
  };
  enum class Kind : uint8_t { Handshake, Read, Write, Readable };
  Step step(Kind kind, void* data, size_t size);

  template <typename Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type type, Token&& token) {
    if (type == boost::asio::ssl::stream_base::server) {
      SSL_set_accept_state(ssl_);
    } else {
      SSL_set_connect_state(ssl_);
    }
    return boost::asio::async_compose<Token, void(boost::system::error_code)>(
        Op<false>{this, Kind::Handshake, nullptr, 0}, token, socket_);
  }
  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    const auto [data, size] = first_buffer(buffers);
    return boost::asio::async_compose<Token, void(boost::system::error_code, size_t)>(
        Op<true>{this, Kind::Read, data, size}, token, socket_);
  }
  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    const auto [data, size] = first_buffer(buffers);
    return boost::asio::async_compose<Token, void(boost::system::error_code, size_t)>(
        Op<true>{this, Kind::Write, data, size}, token, socket_);
  }
  // Completes when decrypted bytes wait in OpenSSL or the socket is readable (or an error or
  // the peer's end is there to be read): the idle wait, with no buffer lent to it.
  template <typename Token>
  auto async_wait_readable(Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code)>(
        Op<false>{this, Kind::Readable, nullptr, 0}, token, socket_);
  }

  // Without waiting: what the read or write would complete with right now, or nullopt when it
  // would have to wait (recv_now / send_now for TLS).
  std::optional<std::tuple<boost::system::error_code, size_t>> read_now(void* data, size_t size);
  std::optional<std::tuple<boost::system::error_code, size_t>> write_now(const void* data,
                                                                         size_t size);

 private:
  // One operation: OpenSSL steps between readiness waits. A result known on the first step is
  // delivered through a zero-byte read of the socket, which Asio posts: never inline.
  // WithBytes: the completion carries a byte count (reads, writes) or not (handshake, wait).
  template <bool WithBytes>
  struct Op {
    TlsStream* stream;
    Kind kind;
    void* data;
    size_t size;
    int state = 0;  // 0: not started; 1: waited for readiness; 2: delivering a first-step result
    boost::system::error_code result{};
    size_t bytes = 0;

    template <typename Self>
    static void finish(Self& self, boost::system::error_code ec, size_t n) {
      if constexpr (WithBytes) {
        self.complete(ec, n);
      } else {
        self.complete(ec);
      }
    }

    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec = {}, size_t = 0) {
      if (state == 2) {
        finish(self, result, bytes);
        return;
      }
      if (ec) {
        finish(self, ec, 0);  // the wait failed: cancelled, or the socket closed
        return;
      }
      const bool first = state == 0;
      state = 1;
      const Step s = stream->step(kind, data, size);
      if (s.want == Want::Read) {
        stream->socket_.async_wait(Socket::wait_read, std::move(self));
        return;
      }
      if (s.want == Want::Write) {
        stream->socket_.async_wait(Socket::wait_write, std::move(self));
        return;
      }
      if (!first) {
        finish(self, s.ec, s.bytes);
        return;
      }
      state = 2;
      result = s.ec;
      bytes = s.bytes;
      stream->socket_.async_read_some(boost::asio::mutable_buffer(), std::move(self));
    }
  };

  template <typename Buffers>
  static std::pair<void*, size_t> first_buffer(const Buffers& buffers) {
    // As asio::ssl::stream does, one read or write_some takes the first non-empty buffer.
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (it->size() > 0)
        return {const_cast<void*>(static_cast<const void*>(it->data())), it->size()};
    }
    return {nullptr, 0};
  }

  Socket socket_;
  SSL* ssl_;
};

}  // namespace vx::adapters::net
