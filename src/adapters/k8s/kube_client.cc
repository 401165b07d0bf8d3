#include "adapters/k8s/kube_client.h"

#include <curl/curl.h>

#include <mutex>

namespace vx::adapters::k8s {

namespace {

// An error body is only for a log line.
constexpr size_t kMaxErrorBody = 4096;

// The handle made ready for a new request to `url` (options of the last one cleared), or null
// when libcurl did not initialise.
CURL* begin(void* handle, const std::string& url) {
  CURL* curl = static_cast<CURL*>(handle);
  if (!curl) return nullptr;
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  return curl;
}

constexpr const char* kNoCurl = "libcurl did not initialise";

}  // namespace

struct KubeClient::Transfer {
  size_t max_bytes = 0;
  const OnData* on_data = nullptr;  // streaming
  const std::atomic<bool>* stop = nullptr;
  CURL* curl = nullptr;
  Response response;
  bool too_large = false;
  bool streaming_ok = false;           // status 200 seen: the body goes to on_data
  const char* content_type = nullptr;  // of the request body
  std::atomic<bool>* open = nullptr;   // streaming: set once the status is 200

  static size_t write(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    const size_t bytes = size * n;
    if (t->on_data) {
      if (!t->streaming_ok) {
        long status = 0;
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
        t->streaming_ok = status == 200;
      }
      if (t->streaming_ok) return (*t->on_data)(std::string_view(data, bytes)) ? bytes : 0;
      if (t->response.body.size() < kMaxErrorBody) t->response.body.append(data, bytes);
      return bytes;
    }
    if (t->response.body.size() + bytes > t->max_bytes) {
      t->too_large = true;
      return 0;  // aborts the transfer
    }
    t->response.body.append(data, bytes);
    return bytes;
  }

  static int progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(self);
    if (t->open && !t->open->load(std::memory_order_relaxed)) {
      long status = 0;
      curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
      if (status == 200) t->open->store(true);
    }
    return t->stop->load(std::memory_order_relaxed) ? 1 : 0;  // non-zero aborts
  }
};

KubeClient::KubeClient(KubeAccess access) : access_(std::move(access)) {
  // curl_global_init is not thread-safe in every libcurl build (the OTLP exporter does the same).
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

KubeClient::~KubeClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

KubeClient::Response KubeClient::perform(Transfer& t) {
  CURL* curl = t.curl;
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for timeouts: we are a thread
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(kConnectTimeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Transfer::write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Transfer::progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  // TLS: the cluster's CA (file or PEM data), else the system store.
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, access_.insecure_skip_tls_verify ? 0L : 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, access_.insecure_skip_tls_verify ? 0L : 2L);
  if (!access_.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(access_.ca_pem.data()), access_.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
  } else if (!access_.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, access_.ca_file.c_str());
#if LIBCURL_VERSION_NUM >= 0x075700
    // libcurl >= 7.87 keeps a parsed CA file for a day; a rotated ca.crt must count at once.
    curl_easy_setopt(curl, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
  }
  if (!access_.client_cert_pem.empty()) {
    curl_blob blob{const_cast<char*>(access_.client_cert_pem.data()),
                   access_.client_cert_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &blob);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (!access_.client_cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, access_.client_cert_file.c_str());
  }
  if (!access_.client_key_pem.empty()) {
    curl_blob blob{const_cast<char*>(access_.client_key_pem.data()), access_.client_key_pem.size(),
                   CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &blob);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (!access_.client_key_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLKEY, access_.client_key_file.c_str());
  }
  // The token is read again for every request: a rotated service-account token takes effect at
  // the next list, watch or status write.
  const std::string token = current_token(access_);
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  if (!token.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  }
  if (t.content_type) {
    headers = curl_slist_append(headers, (std::string("Content-Type: ") + t.content_type).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  Response out = std::move(t.response);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  if (t.too_large) {
    out.status = 0;
    out.error = "response larger than " + std::to_string(t.max_bytes) + " bytes";
  } else if (code != CURLE_OK && !(t.on_data && code == CURLE_WRITE_ERROR)) {
    out.error = curl_easy_strerror(code);
    if (!t.on_data) out.status = 0;
  }
  return out;
}

KubeClient::Response KubeClient::get(const std::string& path, size_t max_bytes,
                                     std::chrono::milliseconds timeout,
                                     const std::atomic<bool>& stop) {
  CURL* curl = begin(curl_, access_.server + path);
  if (!curl) return Response{0, {}, kNoCurl};
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  Transfer t;
  t.curl = curl;
  t.max_bytes = max_bytes;
  t.stop = &stop;
  return perform(t);
}

KubeClient::Response KubeClient::merge_patch(const std::string& path, std::string_view body,
                                             std::chrono::milliseconds timeout,
                                             const std::atomic<bool>& stop) {
  CURL* curl = begin(curl_, access_.server + path);
  if (!curl) return Response{0, {}, kNoCurl};
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PATCH");
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  Transfer t;
  t.curl = curl;
  t.max_bytes = kMaxErrorBody;
  t.stop = &stop;
  t.content_type = "application/merge-patch+json";
  return perform(t);
}

KubeClient::Response KubeClient::stream(const std::string& path, const OnData& on_data,
                                        std::chrono::seconds idle, const std::atomic<bool>& stop,
                                        std::atomic<bool>& open) {
  CURL* curl = begin(curl_, access_.server + path);
  if (!curl) return Response{0, {}, kNoCurl};
  // No total timeout: a watch lasts as long as the server keeps it (timeoutSeconds). Silence
  // longer than `idle` (less than 1 byte/s) ends it: a half-open connection.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(idle.count()));
  Transfer t;
  t.curl = curl;
  t.on_data = &on_data;
  t.stop = &stop;
  t.open = &open;
  return perform(t);
}

}  // namespace vx::adapters::k8s
