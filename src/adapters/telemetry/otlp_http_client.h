// OtlpHttpClient: POST one OTLP/HTTP protobuf body (libcurl, blocking) with bounded connect
// and total times. One per exporter thread; not thread-safe. http:// and https:// (OpenSSL,
// system CA store).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "core/trace/export_backoff.h"

namespace vx::adapters::telemetry {

class OtlpHttpClient {
 public:
  OtlpHttpClient();
  ~OtlpHttpClient();
  OtlpHttpClient(const OtlpHttpClient&) = delete;
  OtlpHttpClient& operator=(const OtlpHttpClient&) = delete;

  // Sends `body` to `url` as application/x-protobuf. Never throws; a transport failure
  // (refused, timed out, reset) is http_status 0. `timeout` bounds the whole exchange (connect
  // included, which gets at most a second of it). `give_up_at`, when it holds a non-zero
  // steady-clock time in ns, ends the exchange once that time is past (checked about once a
  // second): what stop() uses to bound the shutdown while a post hangs.
  core::trace::ExportAttempt post(const std::string& url, std::string_view body,
                                  std::chrono::milliseconds timeout,
                                  const std::atomic<int64_t>* give_up_at = nullptr);

 private:
  void* curl_;  // CURL*, kept between posts so a keep-alive connection is reused
  void* headers_;
};

}  // namespace vx::adapters::telemetry
