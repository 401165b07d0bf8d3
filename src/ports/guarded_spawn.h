// spawn_guarded: co_spawn with the completion handler every spawned coroutine gets (STYLE.md
// §3): an exception that escapes the coroutine ends only that coroutine, is counted and logged
// (ContainedFailures) and goes no further. Asio's `detached` would swallow it silently; no
// handler at all would throw it out of io_context::run() and end the worker.
#pragma once

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <exception>
#include <utility>

#include "ports/awaitable_result.h"
#include "ports/contained_failures.h"
#include "ports/task_kind.h"

namespace vx::ports {

// For a task whose end needs no action.
struct NoCompletion {
  void operator()() const noexcept {}
};

// Runs `task` as its own coroutine on `executor`. When it has ended, whatever happened, calls
// done() on the executor's thread; `done` must not throw. An exception that escaped `task` is
// recorded under `kind` (counted, logged at most once a second per kind) and goes no further.
// Never throws into the caller; does not suspend.
template <typename Done = NoCompletion>
void spawn_guarded(Executor executor, Awaitable<void> task, TaskKind kind, Done done = {}) {
  boost::asio::co_spawn(executor, std::move(task),
                        [kind, done = std::move(done)](std::exception_ptr error) mutable {
                          if (error) ContainedFailures::record(kind, error);
                          done();
                        });
}

// True when `error` is how Asio ends a coroutine whose cancellation slot was emitted:
// boost::system::system_error(operation_aborted), thrown at its next co_await
// (throw_if_cancelled, on by default).
inline bool is_cancellation(std::exception_ptr error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const boost::system::system_error& e) {
    return e.code() == boost::asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

// spawn_guarded for a task its caller may stop on purpose by emitting the signal behind
// `cancel`. The operation_aborted a cancelled coroutine ends with is then the stop that was
// asked for, not a failure: not recorded. Any other exception is recorded as above; done()
// runs in every case.
template <typename Done>
void spawn_guarded_cancellable(Executor executor, Awaitable<void> task, TaskKind kind,
                               boost::asio::cancellation_slot cancel, Done done) {
  boost::asio::co_spawn(
      executor, std::move(task),
      boost::asio::bind_cancellation_slot(
          cancel, [kind, done = std::move(done)](std::exception_ptr error) mutable {
            if (error && !is_cancellation(error)) ContainedFailures::record(kind, error);
            done();
          }));
}

}  // namespace vx::ports
