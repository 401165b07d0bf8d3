// The GCRA Lua script run by Redis (one atomic EVALSHA per decision), its SHA-1, and the
// reading of its reply. Immutable; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/ports/clock.h"
#include "core/ratelimit/gcra.h"

struct redisReply;  // hiredis

namespace vx::adapters::ratelimit {

// KEYS[1] = the bucket; ARGV = T_ns, tau_ns [, now_s, now_ns (caller's clock, tests only)].
// Returns {allowed 0|1, remaining, retry_after_ns, reset_after_ns}, the same numbers as
// core::ratelimit::gcra_decide for the same tat and now.
std::string_view gcra_script();

// Lower-case hex SHA-1 of gcra_script(), the name EVALSHA calls it by.
std::string_view gcra_script_sha1();

// The script's reply as the Decision for `now` under a policy of `limit` (burst + 1). Refuses
// (nullopt) what the script cannot return: anything but an array of four non-negative
// integers, allowed other than 0 or 1, remaining over `limit`, a delay over kMaxWindowNs.
std::optional<core::ratelimit::Decision> parse_gcra_reply(const redisReply* reply,
                                                          core::TimePoint now, uint64_t limit);

}  // namespace vx::adapters::ratelimit
