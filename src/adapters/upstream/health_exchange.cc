#include "adapters/upstream/health_exchange.h"

#include <array>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>

#include "adapters/upstream/client_tls_context.h"
#include "adapters/upstream/health_h2_probe.h"
#include "adapters/upstream/health_probe.h"

namespace vx::adapters::upstream {

namespace asio = boost::asio;

namespace {

using ProbeSocket = asio::basic_stream_socket<asio::ip::tcp, ports::Executor>;
using ProbeTlsStream = asio::ssl::stream<ProbeSocket>;

// The HTTP/1.1 probe reads at most a 16 KiB head (judge_probe_response's bound) plus one byte.
constexpr size_t kMaxResponseBytes = 16 * 1024 + 1;

ProbeResult result_of(const ProbeAnswer& answer) {
  if (answer.verdict == ProbeVerdict::Healthy) return {true, {}, answer.status};
  return {false, answer.detail, answer.status};
}

template <typename Stream>
ports::Awaitable<ProbeResult> exchange_http1(Stream& stream, const ProbeTarget& target) {
  const std::string request = health_probe_request(target.path, target.authority);
  auto [write_ec, written] =
      co_await asio::async_write(stream, asio::buffer(request), ports::kUseTuple);
  if (write_ec) co_return ProbeResult{false, "send failed"};
  std::string received;
  std::array<char, 2048> chunk;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), ports::kUseTuple);
    received.append(chunk.data(), n);
    const ProbeAnswer answer = judge_probe_response(received);
    if (answer.verdict != ProbeVerdict::NeedMore) co_return result_of(answer);
    if (ec) co_return ProbeResult{false, "connection closed before a response"};
    if (received.size() >= kMaxResponseBytes) co_return ProbeResult{false, "response too large"};
  }
}

// Writes whatever the codec has queued, reads, repeats until the verdict; then flushes the
// GOAWAY the probe queued on deciding (best effort: the verdict stands if that write fails).
template <typename Stream>
ports::Awaitable<ProbeResult> exchange_h2(Stream& stream, const ProbeTarget& target) {
  H2HealthProbe probe(target.path, target.authority, target.tls ? "https" : "http");
  std::string out;
  std::array<char, 4096> chunk;
  for (;;) {
    out.clear();
    probe.produce(out);
    if (!out.empty()) {
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(out), ports::kUseTuple);
      if (ec && probe.answer().verdict == ProbeVerdict::NeedMore) {
        co_return ProbeResult{false, "send failed"};
      }
    }
    if (probe.answer().verdict != ProbeVerdict::NeedMore) co_return result_of(probe.answer());
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), ports::kUseTuple);
    if (n > 0) probe.receive({chunk.data(), n}, std::chrono::steady_clock::now());
    if (ec) probe.on_connection_closed();  // no-op when the last bytes decided
  }
}

template <typename Stream>
ports::Awaitable<ProbeResult> speak(Stream& stream, const ProbeTarget& target) {
  if (target.h2) co_return co_await exchange_h2(stream, target);
  co_return co_await exchange_http1(stream, target);
}

}  // namespace

ports::Awaitable<ProbeResult> run_health_probe(ports::Executor executor, ProbeTarget target) {
  ProbeSocket socket(executor);
  bool connected = false;
  for (const auto& address : target.addresses) {
    boost::system::error_code ignored;
    socket.close(ignored);
    auto [ec] = co_await socket.async_connect(address, ports::kUseTuple);
    if (!ec) {
      connected = true;
      break;
    }
  }
  if (!connected) co_return ProbeResult{false, "connect failed"};
  if (!target.tls) co_return co_await speak(socket, target);

  // The same handshake the workers' pools make (h1_upstream_pool.cc, h2_upstream_session.cc),
  // so an endpoint that passes its check also accepts the traffic that follows.
  ProbeTlsStream stream(std::move(socket), target.tls->context());
  if (!target.tls->prepare(stream.native_handle(), target.server_name)) {
    co_return ProbeResult{false, "TLS setup failed"};
  }
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, ports::kUseTuple);
  if (ec) co_return ProbeResult{false, "TLS handshake or certificate check failed"};
  if (!target.tls->negotiated_ok(stream.native_handle())) {
    co_return ProbeResult{false,
                          target.h2 ? "ALPN did not select h2" : "ALPN did not select http/1.1"};
  }
  // No TLS close_notify: the peer learns of the end from the GOAWAY (h2) or Connection: close
  // (HTTP/1.1), and waiting for its close_notify would only hold the probe open.
  co_return co_await speak(stream, target);
}

}  // namespace vx::adapters::upstream
