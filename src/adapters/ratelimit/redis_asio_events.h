// Drives one hiredis async context from a boost::asio::io_context: hiredis' addRead/delRead/
// addWrite/delWrite/cleanup hooks become async_wait calls on a stream_descriptor over the
// context's socket. Lives on the io_context's thread only.
#pragma once

#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace vx::adapters::ratelimit {

// Hooks `ac` to `io`. REQUIRES: ac has no event library attached yet, and is used and freed
// only on io's thread. The attachment frees itself in hiredis' cleanup hook (when the context
// is freed); waits still queued then complete harmlessly without touching the context.
// Returns false (leaving ac unattached) if hiredis refuses the attachment.
bool attach_to_asio(redisAsyncContext* ac, boost::asio::io_context& io);

}  // namespace vx::adapters::ratelimit
