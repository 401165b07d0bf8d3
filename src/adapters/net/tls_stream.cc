#include "adapters/net/tls_stream.h"

#include <boost/asio/error.hpp>

namespace vx::adapters::net {

namespace asio = boost::asio;

TlsStream::TlsStream(Socket socket, asio::ssl::context& context)
    : socket_(std::move(socket)), ssl_(SSL_new(context.native_handle())) {
  if (!ssl_) {
    throw boost::system::system_error(boost::system::error_code(static_cast<int>(ERR_get_error()),
                                                                asio::error::get_ssl_category()),
                                      "SSL_new");
  }
  // OpenSSL reads and writes the descriptor itself: it must never block the worker.
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle()));
  // RELEASE_BUFFERS: the record buffers (~17 KB each way) exist only while a record is being
  // read or written. PARTIAL_WRITE + MOVING_WRITE_BUFFER: a write that would block reports what
  // went, and the retry may come from the composed write's moved-on buffer, as with a socket.
  // read_ahead: one read() takes all the kernel holds, not a record header and then its body.
  SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                         SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_read_ahead(ssl_, 1);
}

TlsStream::~TlsStream() {
  if (ssl_) SSL_free(ssl_);  // the descriptor stays the socket's (SSL_set_fd: BIO_NOCLOSE)
}

TlsStream::Step TlsStream::step(Kind kind, void* data, size_t size) {
  ERR_clear_error();
  errno = 0;
  size_t n = 0;
  int r = 0;
  switch (kind) {
    case Kind::Handshake:
      r = SSL_do_handshake(ssl_);
      break;
    case Kind::Read:
      if (size == 0) return {Want::Nothing, {}, 0};
      r = SSL_read_ex(ssl_, data, size, &n);
      break;
    case Kind::Write:
      if (size == 0) return {Want::Nothing, {}, 0};
      r = SSL_write_ex(ssl_, data, size, &n);
      break;
    case Kind::Readable: {
      // A peek reads and decrypts the next record without taking its bytes: application data
      // now waits in OpenSSL, or the wait goes on (a record with none, like a key update).
      char byte;
      r = SSL_peek_ex(ssl_, &byte, 1, &n);
      n = 0;
      break;
    }
  }
  if (r == 1) return {Want::Nothing, {}, n};
  const int sys_errno = errno;
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      // The read that found nothing set up a record buffer (~17 KB) and keeps it while the
      // connection waits; the idle wait gives it back (a no-op while a partial record is held).
      if (kind == Kind::Readable) SSL_free_buffers(ssl_);
      return {Want::Read, {}, 0};
    case SSL_ERROR_WANT_WRITE:
      return {Want::Write, {}, 0};
    case SSL_ERROR_ZERO_RETURN:
      return {Want::Nothing, asio::error::eof, 0};  // close_notify
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (sys_errno != 0) {
        return {Want::Nothing,
                boost::system::error_code(sys_errno, boost::system::system_category()), 0};
      }
      return {Want::Nothing, asio::ssl::error::stream_truncated, 0};
    default: {
      const unsigned long code = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        return {Want::Nothing, asio::ssl::error::stream_truncated, 0};  // as asio::ssl::stream says
      }
      return {Want::Nothing,
              boost::system::error_code(static_cast<int>(code), asio::error::get_ssl_category()),
              0};
    }
  }
}

std::optional<std::tuple<boost::system::error_code, size_t>> TlsStream::read_now(void* data,
                                                                                 size_t size) {
  const Step s = step(Kind::Read, data, size);
  if (s.want != Want::Nothing) return std::nullopt;
  return std::tuple{s.ec, s.bytes};
}

std::optional<std::tuple<boost::system::error_code, size_t>> TlsStream::write_now(const void* data,
                                                                                  size_t size) {
  const Step s = step(Kind::Write, const_cast<void*>(data), size);
  if (s.want != Want::Nothing) return std::nullopt;
  return std::tuple{s.ec, s.bytes};
}

}  // namespace vx::adapters::net
