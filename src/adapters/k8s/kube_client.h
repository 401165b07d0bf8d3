// KubeClient: blocking HTTP requests to the Kubernetes API server over libcurl, with the
// KubeAccess credentials (bearer token read again for every request, CA, client certificate)
// and a bound on every wait. One per side thread; not thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "adapters/k8s/kube_access.h"

namespace vx::adapters::k8s {

class KubeClient {
 public:
  struct Response {
    long status = 0;    // HTTP status; 0 = no response (error says why)
    std::string body;   // at most the request's max_bytes
    std::string error;  // transport failure, or "response larger than N bytes"
  };
  // Called with each piece of a streamed body as it arrives; false ends the stream.
  using OnData = std::function<bool(std::string_view)>;

  static constexpr std::chrono::milliseconds kConnectTimeout{5000};

  explicit KubeClient(KubeAccess access);
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  // GET server+path; a body over max_bytes fails the request. `timeout`: the whole exchange.
  // Ends early, status 0, once `stop` is true (checked about once a second).
  Response get(const std::string& path, size_t max_bytes, std::chrono::milliseconds timeout,
               const std::atomic<bool>& stop);
  // PATCH server+path with an application/merge-patch+json body.
  Response merge_patch(const std::string& path, std::string_view body,
                       std::chrono::milliseconds timeout, const std::atomic<bool>& stop);
  // GET server+path as a stream: every piece of the body goes to on_data (Response::body stays
  // empty unless the status is not 200, then it holds the start of the error body). Ends when the
  // server ends the body, on_data returns false, nothing arrives for `idle`, or `stop` is set.
  // `open` turns true once the server answered 200 (the stream is open), even before any data.
  Response stream(const std::string& path, const OnData& on_data, std::chrono::seconds idle,
                  const std::atomic<bool>& stop, std::atomic<bool>& open);

  const KubeAccess& access() const { return access_; }

 private:
  struct Transfer;
  Response perform(Transfer& transfer);

  const KubeAccess access_;
  void* curl_;  // CURL*, kept so the connection is reused between requests
};

}  // namespace vx::adapters::k8s
