// WorkerInbox: how other threads hand a task to a worker (drain on a signal, reload steps).
// The worker's io_context runs without any locking (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE), which
// saves a mutex lock/unlock pair per handler (~450 instructions per proxied request, callgrind)
// but makes asio::post from another thread a data race. Tasks wait here instead, under a mutex
// of their own, and an eventfd the worker's reactor watches wakes the worker to run them.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <mutex>
#include <vector>

#include "ports/awaitable_result.h"

namespace vx::app {

class WorkerInbox {
 public:
  explicit WorkerInbox(const ports::Executor& executor);
  WorkerInbox(const WorkerInbox&) = delete;
  WorkerInbox& operator=(const WorkerInbox&) = delete;

  // Any thread. Tasks run on the worker's thread, in the order given, once serve() runs.
  void post(std::function<void()> task);
  // The worker's thread: runs the tasks as they come, until the io_context stops.
  ports::Awaitable<void> serve();

 private:
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;  // guarded by mutex_
  int wake_fd_;                               // eventfd; owned by wake_
  boost::asio::posix::basic_stream_descriptor<ports::Executor> wake_;
};

}  // namespace vx::app
