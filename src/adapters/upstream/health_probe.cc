#include "adapters/upstream/health_probe.h"

#include "adapters/codec/h1/h1_parser.h"

namespace vx::adapters::upstream {
namespace {

// A health answer is a status line and a few fields; a bigger head is a misbehaving endpoint.
constexpr h1::ParseLimits kProbeLimits{.max_header_bytes = 16 * 1024, .max_headers = 100};

}  // namespace

std::string health_probe_request(std::string_view path, std::string_view host) {
  std::string out;
  out.reserve(96 + path.size() + host.size());
  out.append("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host);
  out.append("\r\nUser-Agent: vortex-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n");
  return out;
}

ProbeAnswer judge_probe_response(std::string_view received) {
  // A fresh parser over the whole prefix each time: answers are a few hundred bytes, and
  // this keeps the function free of per-connection state.
  h1::H1Parser parser(h1::H1Parser::Mode::Response, kProbeLimits);
  const h1::HeadResult head = parser.parse_head(received);
  if (head.status == h1::ParseStatus::NeedMore) {
    if (received.size() > kProbeLimits.max_header_bytes) {
      return {ProbeVerdict::Unhealthy, 0, "response head too large"};
    }
    return {};
  }
  if (head.status == h1::ParseStatus::Error) {
    return {ProbeVerdict::Unhealthy, 0, "invalid response"};
  }
  core::http::ResponseHead response;
  parser.response_head(received, response);
  if (response.status >= 200 && response.status < 300) {
    return {ProbeVerdict::Healthy, response.status, {}};
  }
  return {ProbeVerdict::Unhealthy, response.status, "non-2xx status"};
}

}  // namespace vx::adapters::upstream
