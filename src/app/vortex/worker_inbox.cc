#include "app/vortex/worker_inbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace vx::app {

namespace {

int make_eventfd() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

}  // namespace

WorkerInbox::WorkerInbox(const ports::Executor& executor)
    : wake_fd_(make_eventfd()), wake_(executor, wake_fd_) {}

void WorkerInbox::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  const uint64_t one = 1;
  // Only EAGAIN can fail here (the counter at its maximum), and then a wake-up is pending.
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

ports::Awaitable<void> WorkerInbox::serve() {
  std::vector<std::function<void()>> batch;
  for (;;) {
    uint64_t count = 0;
    auto [ec, n] = co_await wake_.async_read_some(boost::asio::buffer(&count, sizeof count),
                                                  ports::kDeferTuple);
    if (ec && ec != boost::asio::error::would_block && ec != boost::asio::error::interrupted) {
      co_return;  // closed: the worker is going away
    }
    {
      std::lock_guard lock(mutex_);
      batch.swap(tasks_);
    }
    for (auto& task : batch) task();
    batch.clear();
  }
}

}  // namespace vx::app
