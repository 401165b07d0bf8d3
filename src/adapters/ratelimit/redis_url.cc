// See redis_url.h.
#include "adapters/ratelimit/redis_url.h"

#include "core/config/socket_address.h"

namespace vx::adapters::ratelimit {

core::Result<RedisUrl, std::string> RedisUrl::parse(std::string_view url) {
  auto bad = [&] {
    return core::unexpected("bad redis url '" + std::string(url) +
                            "': expected redis://host:port[/db]");
  };
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) return bad();
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl out;
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (db.empty() || db.size() > 5) return bad();
    for (char c : db) {
      if (c < '0' || c > '9') return bad();
      out.db = out.db * 10 + static_cast<uint32_t>(c - '0');
    }
    rest = rest.substr(0, slash);
  }
  auto address = core::config::parse_socket_address(rest, core::config::HostKind::IpOrName);
  if (!address) return bad();
  out.host = address->host;
  out.port = address->port;
  return out;
}

}  // namespace vx::adapters::ratelimit
