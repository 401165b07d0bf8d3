// See redis_gcra_script.h. The script mirrors core/ratelimit/gcra.cc step for step; change
// both together (the Redis store's test compares them decision by decision).
#include "adapters/ratelimit/redis_gcra_script.h"

#include <array>
#include <string>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

namespace vx::adapters::ratelimit {
namespace {

// Plain Lua 5.1 without deprecated builtins, so Valkey, KeyDB and Dragonfly run it too.
// Lua numbers are doubles, exact only below 2^53, and nanoseconds since 1970 are past that:
// the tat is stored as "seconds:nanoseconds" and every computed number is an offset from now,
// at most kMaxWindowNs = 2^52 (GcraParams clamps T and tau to it).
// redis.replicate_commands(): Redis 3.2-4 refuse a write after TIME unless the script's
// effects (not the script) are replicated; it is the default from Redis 5 and a no-op in 7.
constexpr std::string_view kScript = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local t = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local now_s, now_ns
if ARGV[4] then
  now_s = tonumber(ARGV[3])
  now_ns = tonumber(ARGV[4])
else
  local time = redis.call('TIME')
  now_s = tonumber(time[1])
  now_ns = tonumber(time[2]) * 1000
end
local window = tau + t
local d = 0
local clamped = false
local stored = redis.call('GET', KEYS[1])
if stored then
  local s, n = string.match(stored, '^(%-?%d+):(%d+)$')
  if s then
    d = (tonumber(s) - now_s) * 1000000000 + (tonumber(n) - now_ns)
    if d < 0 then d = 0 end
    if d > window then
      d = window
      clamped = true
    end
  end
end
local function keep(ahead)
  local total = now_ns + ahead
  local carry = math.floor(total / 1000000000)
  local tat = string.format('%d:%d', now_s + carry, total - carry * 1000000000)
  redis.call('SET', KEYS[1], tat, 'PX', math.floor(ahead / 1000000) + 1)
end
if d > tau then
  if clamped then keep(d) end
  return {0, 0, d - tau, d}
end
local ahead = d + t
keep(ahead)
local remaining = math.floor((tau - d) / t)
if remaining * t > tau - d then remaining = remaining - 1 end
return {1, remaining, 0, ahead}
)lua";

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::string_view gcra_script() {
  return kScript;
}

std::string_view gcra_script_sha1() {
  static const std::string sha = sha1_hex(kScript);
  return sha;
}

std::optional<core::ratelimit::Decision> parse_gcra_reply(const redisReply* r, core::TimePoint now,
                                                          uint64_t limit) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 4) return std::nullopt;
  for (std::size_t i = 0; i < 4; ++i) {
    const redisReply* e = r->element[i];
    if (e == nullptr || e->type != REDIS_REPLY_INTEGER || e->integer < 0) return std::nullopt;
  }
  const long long allowed = r->element[0]->integer, remaining = r->element[1]->integer,
                  retry_after = r->element[2]->integer, reset_after = r->element[3]->integer;
  // The script never returns more than this (kScript: remaining <= burst, every delay within
  // the window, clamped to kMaxWindowNs). Anything else is not its reply: a delay near 2^63
  // overflowed now + reset_after, and remaining over the limit broke RateLimit-Remaining.
  if (allowed > 1 || static_cast<uint64_t>(remaining) > limit ||
      retry_after > core::ratelimit::kMaxWindowNs || reset_after > core::ratelimit::kMaxWindowNs) {
    return std::nullopt;
  }
  core::ratelimit::Decision d;
  d.allowed = allowed == 1;
  d.limit = limit;
  d.remaining = static_cast<uint64_t>(remaining);
  d.retry_after = core::Nanos(retry_after);
  d.reset_after = core::Nanos(reset_after);
  d.new_tat = now + d.reset_after;
  return d;
}

}  // namespace vx::adapters::ratelimit
