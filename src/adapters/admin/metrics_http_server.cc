#include "adapters/admin/metrics_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "ports/guarded_thread.h"

namespace vx::adapters::admin {

namespace {

// A scraper that connects and stalls holds the thread at most this long.
constexpr int kIoTimeoutSeconds = 2;
constexpr size_t kMaxRequestHead = 8192;

// Closed however answer() ends: one that throws (rendering runs out of memory ...) must not
// leave the scraper waiting on a socket nobody will close once serve() runs again.
struct AcceptedSocket {
  int fd;
  ~AcceptedSocket() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void respond(int fd, int status, std::string_view reason, std::string_view content_type,
             std::string_view body, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n";
  if (!head_only) out.append(body);
  write_all(fd, out);
}

}  // namespace

core::Result<std::unique_ptr<MetricsHttpServer>, std::string> MetricsHttpServer::start(
    const core::config::SocketAddress& address, MetricsSource& source) {
  const std::string where = "metrics.address " + address.text;
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  if (address.host.find(':') != std::string::npos) {
    family = AF_INET6;
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&storage);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(address.port);
    if (::inet_pton(AF_INET6, address.host.c_str(), &a6->sin6_addr) != 1) {
      return core::unexpected(where + ": not an IP address");
    }
    length = sizeof *a6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&storage);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(address.port);
    if (::inet_pton(AF_INET, address.host.c_str(), &a4->sin_addr) != 1) {
      return core::unexpected(where + ": not an IP address");
    }
    length = sizeof *a4;
  }
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::unexpected(where + ": socket: " + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 || ::listen(fd, 64) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return core::unexpected(where + ": cannot bind: " + why);
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) {
    ::close(fd);
    return core::unexpected(where + ": pipe: " + std::strerror(errno));
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(fd, wake[0], wake[1], source));
  server->thread_ = std::thread([s = server.get()] {
    ports::run_guarded_thread(ports::TaskKind::MetricsServerThread, [s] { s->serve(); });
  });
  return server;
}

MetricsHttpServer::MetricsHttpServer(int listen_fd, int wake_read, int wake_write,
                                     MetricsSource& source)
    : listen_fd_(listen_fd), wake_read_(wake_read), wake_write_(wake_write), source_(source) {}

MetricsHttpServer::~MetricsHttpServer() {
  stop();
}

void MetricsHttpServer::stop() {
  if (thread_.joinable()) {
    const char byte = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_write_, &byte, 1);
    thread_.join();
  }
  for (int* fd : {&listen_fd_, &wake_read_, &wake_write_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void MetricsHttpServer::serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const AcceptedSocket client{::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC)};
    if (client.fd < 0) continue;
    const timeval timeout{kIoTimeoutSeconds, 0};
    ::setsockopt(client.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(client.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    answer(client.fd);
  }
}

void MetricsHttpServer::answer(int fd) {
  std::string head;
  char buffer[2048];
  while (head.find("\r\n\r\n") == std::string::npos && head.find("\n\n") == std::string::npos) {
    if (head.size() > kMaxRequestHead) {
      respond(fd, 431, "Request Header Fields Too Large", "text/plain", "too large\n", false);
      return;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    head.append(buffer, static_cast<size_t>(n));
  }
  // Request line: METHOD SP TARGET SP VERSION.
  const std::string_view line(head.data(), head.find_first_of("\r\n"));
  const size_t first = line.find(' ');
  const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos) {
    respond(fd, 400, "Bad Request", "text/plain", "bad request\n", false);
    return;
  }
  const std::string_view method = line.substr(0, first);
  std::string_view target = line.substr(first + 1, second - first - 1);
  target = target.substr(0, target.find('?'));
  const bool head_only = method == "HEAD";
  if (method != "GET" && !head_only) {
    respond(fd, 405, "Method Not Allowed", "text/plain", "GET only\n", false);
    return;
  }
  if (target == "/metrics") {
    respond(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", source_.render_metrics(),
            head_only);
  } else if (target == "/healthz") {
    respond(fd, 200, "OK", "text/plain", "ok\n", head_only);
  } else if (target == "/readyz") {
    if (source_.ready()) {
      respond(fd, 200, "OK", "text/plain", "ready\n", head_only);
    } else {
      respond(fd, 503, "Service Unavailable", "text/plain", "not ready\n", head_only);
    }
  } else {
    respond(fd, 404, "Not Found", "text/plain", "not found\n", head_only);
  }
}

}  // namespace vx::adapters::admin
