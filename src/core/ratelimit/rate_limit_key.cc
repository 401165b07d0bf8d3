// See rate_limit_key.h.
#include "core/ratelimit/rate_limit_key.h"

#include "core/http/token.h"

namespace vx::core::ratelimit {
namespace {

std::string_view cap(std::string_view s) {
  return s.substr(0, kMaxKeyBytes);
}

}  // namespace

Result<RateLimitKey, std::string> RateLimitKey::parse(std::string_view spec) {
  RateLimitKey key;
  if (spec == "client_ip") return key;
  if (spec == "route") {
    key.source = KeySource::Route;
    return key;
  }
  constexpr std::string_view kHeaderPrefix = "header:";
  if (spec.substr(0, kHeaderPrefix.size()) == kHeaderPrefix) {
    const std::string_view name = spec.substr(kHeaderPrefix.size());
    if (core::http::is_token(name)) {
      key.source = KeySource::Header;
      key.header_name.reserve(name.size());
      for (char c : name) {
        key.header_name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      }
      return key;
    }
  }
  return unexpected("bad rate limit key '" + std::string(spec) +
                    "': expected client_ip, header:NAME or route");
}

std::string_view request_key(const RateLimitKey& key, std::string_view client_ip,
                             std::optional<std::string_view> header_value,
                             std::string_view route_name) {
  switch (key.source) {
    case KeySource::ClientIp:
      return cap(client_ip);
    case KeySource::Route:
      return cap(route_name);
    case KeySource::Header:
      if (!header_value || header_value->empty()) return kMissingHeaderKey;
      return cap(*header_value);
  }
  return kMissingHeaderKey;
}

}  // namespace vx::core::ratelimit
