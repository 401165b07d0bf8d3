#include "adapters/upstream/health_h2_probe.h"

#include <charconv>

namespace vx::adapters::upstream {
namespace {

// A probe reads one response head: small windows and header bounds keep a misbehaving endpoint
// from making the checker buffer much. One stream only, so one concurrent stream is enough.
h2::H2Settings probe_settings() {
  h2::H2Settings s;
  s.max_concurrent_streams = 1;
  s.initial_window = 16 * 1024;
  s.connection_window = 64 * 1024;
  s.max_header_list = 16 * 1024;  // as the HTTP/1.1 probe's head bound
  s.max_header_fields = 100;
  return s;
}

const core::http::HeaderList& probe_headers() {
  static const core::http::HeaderList headers{{"user-agent", "vortex-health-check"},
                                              {"accept", "*/*"}};
  return headers;
}

}  // namespace

H2HealthProbe::H2HealthProbe(std::string_view path, std::string_view authority,
                             std::string_view scheme)
    : codec_(h2::H2Session::Role::Client, probe_settings(), *this) {
  stream_id_ = codec_.submit_request("GET", scheme, authority, path, probe_headers(), false);
  if (stream_id_ < 0) decide({ProbeVerdict::Unhealthy, 0, "request refused by the HTTP/2 codec"});
}

const ProbeAnswer& H2HealthProbe::receive(std::string_view bytes,
                                          std::chrono::steady_clock::time_point now) {
  if (answer_.verdict != ProbeVerdict::NeedMore) return answer_;
  if (!codec_.receive(bytes, now)) decide({ProbeVerdict::Unhealthy, 0, "invalid HTTP/2"});
  return answer_;
}

void H2HealthProbe::produce(std::string& out) {
  codec_.produce(out);
  // nghttp2 answers some connection errors itself (a bad frame size, a peer that is not HTTP/2
  // at all) with its own GOAWAY and reads no more, without an error from receive(): once that
  // GOAWAY is out, no response can come.
  if (codec_.finished()) {
    decide({ProbeVerdict::Unhealthy, 0, "HTTP/2 session ended before a response"});
  }
}

const ProbeAnswer& H2HealthProbe::on_connection_closed() {
  decide({ProbeVerdict::Unhealthy, 0, "connection closed before a response"});
  return answer_;
}

void H2HealthProbe::on_headers(int32_t stream_id, h2::HeaderBlock& block, bool) {
  if (stream_id != stream_id_) return;
  const std::string_view text = block.find(":status");
  uint16_t status = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), status);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    // Trailers (no :status) only follow a final head, which has decided already.
    decide({ProbeVerdict::Unhealthy, 0, "invalid response"});
    return;
  }
  if (status >= 100 && status < 200) return;  // interim (RFC 9110 §15.2): the final head follows
  if (status >= 200 && status < 300) {
    decide({ProbeVerdict::Healthy, status, {}});
  } else {
    decide({ProbeVerdict::Unhealthy, status, "non-2xx status"});
  }
}

void H2HealthProbe::on_data(int32_t stream_id, std::string_view data) {
  // The verdict came with the head; acknowledging keeps the flow-control windows honest for the
  // few frames that may still arrive before our GOAWAY lands.
  codec_.consume(stream_id, data.size());
}

void H2HealthProbe::on_stream_close(int32_t stream_id, uint32_t) {
  if (stream_id == stream_id_)
    decide({ProbeVerdict::Unhealthy, 0, "stream reset before a response"});
}

void H2HealthProbe::on_goaway(uint32_t last_stream_id, uint32_t) {
  // RFC 9113 §6.8: a stream above last_stream_id was never processed and never will be.
  if (stream_id_ > 0 && static_cast<uint32_t>(stream_id_) > last_stream_id) {
    decide({ProbeVerdict::Unhealthy, 0, "refused by GOAWAY"});
  }
}

void H2HealthProbe::decide(ProbeAnswer answer) {
  if (answer_.verdict != ProbeVerdict::NeedMore) return;  // invariant 1
  answer_ = answer;
  codec_.terminate(NGHTTP2_NO_ERROR);  // invariant 2
}

}  // namespace vx::adapters::upstream
