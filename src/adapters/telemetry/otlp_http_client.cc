#include "adapters/telemetry/otlp_http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

namespace vx::adapters::telemetry {

namespace {

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

int give_up_when_due(void* give_up_at, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const int64_t at = static_cast<const std::atomic<int64_t>*>(give_up_at)->load();
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  return at != 0 && now > at ? 1 : 0;  // non-zero aborts the transfer
}

}  // namespace

OtlpHttpClient::OtlpHttpClient() {
  // curl_global_init is not thread-safe in every libcurl build: once, whoever comes first.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-protobuf");
  // No "Expect: 100-continue" round trip before a body over 1 KiB.
  headers = curl_slist_append(headers, "Expect:");
  headers_ = headers;
}

OtlpHttpClient::~OtlpHttpClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
  curl_slist_free_all(static_cast<curl_slist*>(headers_));
}

core::trace::ExportAttempt OtlpHttpClient::post(const std::string& url, std::string_view body,
                                                std::chrono::milliseconds timeout,
                                                const std::atomic<int64_t>* give_up_at) {
  core::trace::ExportAttempt result;
  CURL* curl = static_cast<CURL*>(curl_);
  if (!curl) return result;
  const long total_ms = std::max<long>(1, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for timeouts: we are a thread
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min<long>(1000, total_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, total_ms);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, give_up_at ? 0L : 1L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, give_up_at ? &give_up_when_due : nullptr);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<int64_t>*>(give_up_at));
  if (curl_easy_perform(curl) != CURLE_OK) return result;
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  result.http_status = static_cast<int>(status);
  curl_off_t retry_after = 0;  // seconds; libcurl reads both Retry-After forms (RFC 9110 §10.2.3)
  if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
    result.retry_after = std::chrono::seconds(retry_after);
  }
  return result;
}

}  // namespace vx::adapters::telemetry
