// spawn_guarded: co_spawn with a completion handler that confines an escaped exception to the
// coroutine that threw it (STYLE.md §3: never `detached`, which swallows it silently).
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <cstdio>
#include <exception>
#include <utility>

#include "ports/awaitable_result.h"

namespace vx::adapters::net {

// Runs `task`; then calls done() whatever happened. An exception is counted and logged, at
// most once a second per thread, and goes no further.
template <typename Done>
void spawn_guarded(ports::Executor executor, ports::Awaitable<void> task, Done done) {
  boost::asio::co_spawn(
      executor, std::move(task), [done = std::move(done)](std::exception_ptr error) mutable {
        if (error) {
          thread_local std::chrono::steady_clock::time_point last_log{};
          const auto now = std::chrono::steady_clock::now();
          if (now - last_log > std::chrono::seconds(1)) {
            last_log = now;
            try {
              std::rethrow_exception(error);
            } catch (const std::exception& e) {
              std::fprintf(stderr, "vortex: connection task failed: %s\n", e.what());
            } catch (...) {
              std::fprintf(stderr, "vortex: connection task failed\n");
            }
          }
        }
        done();
      });
}

}  // namespace vx::adapters::net
