// RedisUrl: rate_limits.redis.url ("redis://host:port[/db]") split into its parts. Value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace vx::adapters::ratelimit {

struct RedisUrl {
  std::string host;  // IPv4, IPv6 (no brackets) or a DNS name
  uint16_t port = 6379;
  uint32_t db = 0;

  // Accepts exactly what config validation accepts: scheme "redis://", host:port (IPv6 in
  // brackets), optional "/N" with N a database number of up to 5 digits. Refuses anything
  // else with a message quoting the url.
  static core::Result<RedisUrl, std::string> parse(std::string_view url);
};

}  // namespace vx::adapters::ratelimit
