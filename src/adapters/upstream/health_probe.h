// One active health check on the wire (SPEC.md clusters[].health_check): the request bytes and
// the verdict on the answer. Pure functions over bytes; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vx::adapters::upstream {

// "GET <path> HTTP/1.1" with Host = the endpoint's "host:port" and Connection: close: one
// probe per connection, so a probe never finds a connection the endpoint half-closed while idle.
std::string health_probe_request(std::string_view path, std::string_view host);

enum class ProbeVerdict : uint8_t { NeedMore, Healthy, Unhealthy };

struct ProbeAnswer {
  ProbeVerdict verdict = ProbeVerdict::NeedMore;
  uint16_t status = 0;           // the response status once the head is complete, else 0
  std::string_view detail = {};  // why Unhealthy; a literal
};

// Judges everything received so far on a probe connection. NeedMore until the response head is
// complete; then Healthy for a 2xx status and Unhealthy for any other. A malformed head (or one
// over 16 KiB) is Unhealthy at once: the endpoint answered, but not as an HTTP server should.
// The body is never needed.
ProbeAnswer judge_probe_response(std::string_view received);

}  // namespace vx::adapters::upstream
