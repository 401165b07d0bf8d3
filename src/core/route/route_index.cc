#include "core/route/route_index.h"

#include <algorithm>

#include "core/http/header.h"

namespace vx::core::route {

size_t RouteIndex::Caseless::operator()(std::string_view s) const {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the lower-cased bytes
  for (const char c : s) {
    h ^= static_cast<unsigned char>(http::ascii_lower(c));
    h *= 0x100000001b3ULL;
  }
  return static_cast<size_t>(h);
}

bool RouteIndex::Caseless::operator()(std::string_view a, std::string_view b) const {
  return http::iequals(a, b);
}

void RouteIndex::PathIndex::add(uint32_t route, const Key& key) {
  switch (key.path_kind) {
    case PathKind::Exact:
      exact[std::string(key.path)].push_back(route);
      return;
    case PathKind::Prefix: {
      prefix[std::string(key.path)].push_back(route);
      const auto length = static_cast<uint32_t>(key.path.size());
      const auto at = std::lower_bound(prefix_lengths.begin(), prefix_lengths.end(), length);
      if (at == prefix_lengths.end() || *at != length) prefix_lengths.insert(at, length);
      return;
    }
    case PathKind::Any:
    case PathKind::Other:
      other.push_back(route);
      return;
  }
}

void RouteIndex::add(uint32_t route, const Key& key) {
  switch (key.host_kind) {
    case HostKind::Any:
      any_host_.add(route, key);
      return;
    case HostKind::Exact:
      exact_hosts_[std::string(key.host)].add(route, key);
      return;
    case HostKind::SubDomain:
      sub_domains_[std::string(key.host)].add(route, key);
      return;
  }
}

}  // namespace vx::core::route
