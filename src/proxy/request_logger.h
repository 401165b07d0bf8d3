// RequestLogger: the on_log hook, called once per finished stream on the worker's thread.
// Implemented by the access log (adapters/telemetry); views live only during the call.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace vx::proxy {

struct RequestRecord {
  std::string_view method;
  std::string_view path;
  std::string_view route;     // empty when no route matched
  std::string_view upstream;  // endpoint address; empty when none was used
  std::string_view request_id;
  std::string_view client_ip;
  uint16_t status = 0;
  uint64_t bytes_sent = 0;  // response body bytes
  std::chrono::nanoseconds duration{0};
};

class RequestLogger {
 public:
  virtual ~RequestLogger() = default;
  virtual void on_log(const RequestRecord& record) = 0;
};

}  // namespace vx::proxy
