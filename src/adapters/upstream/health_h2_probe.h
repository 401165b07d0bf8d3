// H2HealthProbe: one active health check over HTTP/2 (SPEC.md clusters[].health_check, protocol
// h2c or h2), sans-I/O: the client preface, SETTINGS and one GET out through produce(), the
// peer's frames in through receive(), a verdict from the response's :status. One per probe
// connection, single-threaded, no I/O (the checker's coroutine moves the bytes).
//
// Invariants:
//  1. Exactly one stream is ever opened; the verdict is decided once and never changes.
//  2. Once decided, the session is terminated with GOAWAY NO_ERROR, so the next produce()
//     says goodbye before the owner closes the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/codec/h2/h2_session.h"
#include "adapters/upstream/health_probe.h"

namespace vx::adapters::upstream {

class H2HealthProbe final : private h2::H2Events {
 public:
  // Queues the preface, SETTINGS and "GET <path>" with :scheme `scheme` ("http" for h2c,
  // "https" for h2) and :authority `authority` (the endpoint's "host:port"). A request the
  // codec refuses is an Unhealthy verdict at once.
  H2HealthProbe(std::string_view path, std::string_view authority, std::string_view scheme);

  H2HealthProbe(const H2HealthProbe&) = delete;
  H2HealthProbe& operator=(const H2HealthProbe&) = delete;

  // Feeds bytes read from the endpoint; returns the verdict so far. A protocol error from the
  // peer (the codec turns fatal) is Unhealthy: it does not speak HTTP/2.
  const ProbeAnswer& receive(std::string_view bytes, std::chrono::steady_clock::time_point now);
  // Appends the frames ready to go (preface and request first, SETTINGS acks, then GOAWAY once
  // decided). Empty when there is nothing to send. Decides Unhealthy when the session ended
  // (nghttp2 closed it over a peer error) without a response.
  void produce(std::string& out);
  // The connection ended (EOF or a read error): Unhealthy unless already decided.
  const ProbeAnswer& on_connection_closed();
  const ProbeAnswer& answer() const { return answer_; }

 private:
  // h2::H2Events
  void on_headers(int32_t stream_id, h2::HeaderBlock& block, bool end_stream) override;
  void on_data(int32_t stream_id, std::string_view data) override;
  void on_end_stream(int32_t) override {}
  void on_stream_close(int32_t stream_id, uint32_t error_code) override;
  long on_send_body(int32_t, uint8_t*, size_t, bool&, const core::http::HeaderList*&) override {
    return -1;  // a GET has no body
  }
  void on_goaway(uint32_t last_stream_id, uint32_t error_code) override;

  void decide(ProbeAnswer answer);

  h2::H2Session codec_;
  int32_t stream_id_ = -1;
  ProbeAnswer answer_;  // invariant 1
};

}  // namespace vx::adapters::upstream
