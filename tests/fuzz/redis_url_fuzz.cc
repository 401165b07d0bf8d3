// RedisUrl::parse, on rate_limits.redis.url values: it must accept exactly what config
// validation (core::config::is_valid_redis_url) accepts, as redis_url.h promises, and what it
// accepts must survive a round trip through its own parts.
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/ratelimit/redis_url.h"
#include "core/config/validate.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  const auto parsed = vx::adapters::ratelimit::RedisUrl::parse(url);
  VX_FUZZ_CHECK(parsed.has_value() == vx::core::config::is_valid_redis_url(url));
  if (!parsed) {
    VX_FUZZ_CHECK(!parsed.error().empty());
    return 0;
  }
  VX_FUZZ_CHECK(!parsed->host.empty() && parsed->port != 0 && parsed->db <= 99999);
  const bool ipv6 = parsed->host.find(':') != std::string::npos;
  const std::string again = "redis://" + (ipv6 ? "[" + parsed->host + "]" : parsed->host) + ":" +
                            std::to_string(parsed->port) + "/" + std::to_string(parsed->db);
  const auto reparsed = vx::adapters::ratelimit::RedisUrl::parse(again);
  VX_FUZZ_CHECK(reparsed.has_value());
  VX_FUZZ_CHECK(reparsed->host == parsed->host && reparsed->port == parsed->port &&
                reparsed->db == parsed->db);
  return 0;
}
