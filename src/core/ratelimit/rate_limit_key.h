// What a policy counts requests by (SPEC.md §2 rate_limits.policies[].key) and the key of one
// request under it. Immutable after parse; request_key() allocates nothing. Any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/result.h"

namespace vx::core::ratelimit {

enum class KeySource : uint8_t { ClientIp, Header, Route };

// A request without the policy's header (or with it empty) is limited under this shared key.
inline constexpr std::string_view kMissingHeaderKey = "-";

// Keys are cut to this length so a client cannot grow a store's memory with huge header
// values; header values sharing their first kMaxKeyBytes bytes share a bucket.
inline constexpr std::size_t kMaxKeyBytes = 256;

struct RateLimitKey {
  KeySource source = KeySource::ClientIp;
  std::string header_name;  // lower case, only for KeySource::Header

  // Accepts "client_ip", "route" and "header:NAME" (NAME an RFC 9110 token, any case).
  // Refuses anything else with a message naming the bad spec.
  static Result<RateLimitKey, std::string> parse(std::string_view spec);

  friend bool operator==(const RateLimitKey&, const RateLimitKey&) = default;
};

// The key of one request when the header value (if any) is already at hand. Returns a view into
// one of the arguments, or kMissingHeaderKey: valid as long as they are.
std::string_view request_key(const RateLimitKey& key, std::string_view client_ip,
                             std::optional<std::string_view> header_value,
                             std::string_view route_name);

// Same, fetching the header only when the policy needs it. `lookup` is called at most once, as
// lookup(std::string_view lower_case_name) -> std::optional<std::string_view>.
template <typename HeaderLookup>
requires std::is_invocable_v<HeaderLookup&, std::string_view> std::string_view request_key(
    const RateLimitKey& key, std::string_view client_ip, HeaderLookup&& lookup,
    std::string_view route_name) {
  std::optional<std::string_view> value;
  if (key.source == KeySource::Header) value = lookup(std::string_view(key.header_name));
  return request_key(key, client_ip, value, route_name);
}

}  // namespace vx::core::ratelimit
