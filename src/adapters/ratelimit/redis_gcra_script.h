// The GCRA Lua script run by Redis (one atomic EVALSHA per decision) and its SHA-1.
// Immutable; any thread.
#pragma once

#include <string_view>

namespace vx::adapters::ratelimit {

// KEYS[1] = the bucket; ARGV = T_ns, tau_ns [, now_s, now_ns (caller's clock, tests only)].
// Returns {allowed 0|1, remaining, retry_after_ns, reset_after_ns}, the same numbers as
// core::ratelimit::gcra_decide for the same tat and now.
std::string_view gcra_script();

// Lower-case hex SHA-1 of gcra_script(), the name EVALSHA calls it by.
std::string_view gcra_script_sha1();

}  // namespace vx::adapters::ratelimit
