#include "adapters/telemetry/json_access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>

#include "core/http/error.h"

namespace vx::adapters::telemetry {

namespace {

void append_number(std::string& out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(",\"");
  out.append(name);
  out.append("\":\"");
  core::http::append_json_escaped(out, value);
  out.push_back('"');
}

}  // namespace

core::Result<std::unique_ptr<JsonAccessLog>, std::string> JsonAccessLog::open(
    const std::string& path) {
  if (path == "stdout") return std::unique_ptr<JsonAccessLog>(new JsonAccessLog(1, false));
  if (path == "stderr") return std::unique_ptr<JsonAccessLog>(new JsonAccessLog(2, false));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0)
    return core::unexpected("access_log: cannot open " + path + ": " + std::strerror(errno));
  return std::unique_ptr<JsonAccessLog>(new JsonAccessLog(fd, true));
}

JsonAccessLog::~JsonAccessLog() {
  flush();
  if (owned_) ::close(fd_);
}

void JsonAccessLog::on_log(const proxy::RequestRecord& r) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc;
  gmtime_r(&seconds, &utc);
  char time[40];
  const size_t n = std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &utc);
  buffer_.append("{\"time\":\"");
  buffer_.append(time, n);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms.count() % 1000));
  buffer_.append(millis);
  buffer_.push_back('"');
  append_field(buffer_, "method", r.method);
  append_field(buffer_, "path", r.path);
  buffer_.append(",\"status\":");
  append_number(buffer_, r.status);
  buffer_.append(",\"bytes\":");
  append_number(buffer_, r.bytes_sent);
  buffer_.append(",\"duration_ms\":");
  char duration[32];
  const int len = std::snprintf(duration, sizeof duration, "%.3f",
                                std::chrono::duration<double, std::milli>(r.duration).count());
  buffer_.append(duration, static_cast<size_t>(len));
  append_field(buffer_, "route", r.route);
  append_field(buffer_, "upstream", r.upstream);
  append_field(buffer_, "request_id", r.request_id);
  append_field(buffer_, "client", r.client_ip);
  if (!r.trace_id.empty()) append_field(buffer_, "trace_id", r.trace_id);
  buffer_.append("}\n");
  if (buffer_.size() >= kFlushBytes) flush();
}

void JsonAccessLog::flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a full disk loses log lines, never requests
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

}  // namespace vx::adapters::telemetry
