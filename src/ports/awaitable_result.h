// The shape of every async port call: an Asio coroutine yielding a Result with the data plane's
// error type. Never throws on the data plane.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/http/error.h"
#include "core/result.h"

namespace vx::ports {

// Worker coroutines run on one io_context; naming its executor avoids any_io_executor's type
// erasure on the hot path (notes/asio-hot-path.md: ~5 % CPU per request).
using Executor = boost::asio::io_context::executor_type;

template <typename T>
using Awaitable = boost::asio::awaitable<T, Executor>;

// Completion tokens for I/O inside worker coroutines: errors (EOF, reset, cancellation) come
// back as values in a tuple, never as exceptions (STYLE.md §3).
// kDeferTuple for an operation co_awaited directly: Asio awaits a deferred operation in place,
// where use_awaitable wraps each one in a coroutine frame of its own (an allocation and a
// resume more per read or write, ~5 per proxied request).
inline constexpr auto kDeferTuple = boost::asio::as_tuple(boost::asio::deferred);
// kUseTuple for the operands of awaitable operators (`a || b`), which need awaitables.
inline constexpr auto kUseTuple = boost::asio::as_tuple(boost::asio::use_awaitable_t<Executor>{});

template <typename T>
using AsyncResult = Awaitable<core::Result<T, core::http::Error>>;

// Lets the worker's other ready handlers run once before this coroutine goes on: awaited after
// a write that went out at once, before reading the peer's answer (adapters/net/send_now.h).
// Deferred, so without a coroutine frame.
inline auto yield_after_send(const Executor& executor) {
  return boost::asio::post(executor, boost::asio::deferred);
}

}  // namespace vx::ports
