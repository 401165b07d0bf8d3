// run_guarded_thread: what every thread Vortex starts runs its work through, so an exception that
// escapes the work is counted and logged (ContainedFailures) instead of ending the process in
// std::terminate with nothing said.
#pragma once

#include <exception>

#include "ports/contained_failures.h"
#include "ports/task_kind.h"

namespace vx::ports {

// Calls body() on the calling thread until it returns. When it throws, the exception is recorded
// under `kind` and body() is called again.
//
// Again, not given up: a thread's job has no other owner, and each of them failing quietly
// later is worse than a bug counted now. A worker whose loop ended still holds its
// SO_REUSEPORT sockets, so the kernel keeps handing it connections nobody accepts; a stopped
// health checker leaves an endpoint it marked unhealthy out for good; a stopped sweeper never
// lifts a ban; a stopped metrics thread fails every scrape and /readyz. Each body is a loop
// that waits before it works (an io_context, which Asio lets run() again after a handler threw;
// a timed sweep; a poll()), so calling it again resumes the job without spinning.
template <typename Body>
void run_guarded_thread(TaskKind kind, Body&& body) {
  for (;;) {
    try {
      body();
      return;
    } catch (...) {
      ContainedFailures::record(kind, std::current_exception());
    }
  }
}

}  // namespace vx::ports
