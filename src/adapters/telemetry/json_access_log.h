// JsonAccessLog: the access log as JSON lines (SPEC.md access_log), one per finished stream.
// One per worker: lines are formatted into a per-worker buffer and written with one write(2)
// per flush (when it passes 32 KiB, or when the worker's housekeeping tick calls flush()), so
// the request path never waits on the file. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "proxy/request_logger.h"

namespace vx::adapters::telemetry {

class JsonAccessLog final : public proxy::RequestLogger {
 public:
  // path: "stdout", "stderr" or a file opened for appending. Refuses an unopenable file.
  static core::Result<std::unique_ptr<JsonAccessLog>, std::string> open(const std::string& path);
  ~JsonAccessLog() override;

  // proxy::RequestLogger
  void on_log(const proxy::RequestRecord& record) override;
  void flush();

 private:
  explicit JsonAccessLog(int fd, bool owned) : fd_(fd), owned_(owned) {
    buffer_.reserve(kFlushBytes * 2);
  }
  static constexpr size_t kFlushBytes = 32 * 1024;
  int fd_;
  bool owned_;
  std::string buffer_;
};

}  // namespace vx::adapters::telemetry
