// RouteIndex: which routes of a table could match a request, found by its host and path
// instead of trying every route. Routes are filed under their host condition (any host, an
// exact host by hash, a "*.domain" by its suffix) and, within that, under their path condition
// (an exact path by hash, a prefix by hash per distinct prefix length, the rest — any path or a
// regex — in a list that is always a candidate). A request looks up the few lists its host and
// path select; each list holds route positions in config order, so the first route that
// really matches (the caller's check) is the smallest position that passes: first match wins,
// exactly as a scan of the whole table would find it. Immutable after the adds; lookups
// allocate nothing and are safe from any thread.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vx::core::route {

class RouteIndex {
 public:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  enum class HostKind : uint8_t { Any, Exact, SubDomain };
  enum class PathKind : uint8_t { Any, Exact, Prefix, Other };  // Other: a regex
  struct Key {
    HostKind host_kind = HostKind::Any;
    std::string_view host;  // lower case; SubDomain: the suffix with its dot, ".example.com"
    PathKind path_kind = PathKind::Any;
    std::string_view path;
  };

  // Files route `route` under `key`. Routes are added in config order (ascending positions).
  void add(uint32_t route, const Key& key);

  // The smallest position among the routes filed where `host` (without port or trailing dot,
  // any case) and `path` (without query) lead, for which `accepts(position)` holds; kNone if
  // none does. `accepts` is the full condition check.
  template <typename Accepts>
  uint32_t first_match(std::string_view host, std::string_view path, Accepts&& accepts) const {
    uint32_t best = kNone;
    auto scan = [&](const std::vector<uint32_t>& routes) {
      for (const uint32_t route : routes) {
        if (route >= best) return;  // a later route cannot win
        if (accepts(route)) {
          best = route;
          return;
        }
      }
    };
    auto scan_paths = [&](const PathIndex& paths) {
      scan(paths.other);
      if (const auto it = paths.exact.find(path); it != paths.exact.end()) scan(it->second);
      for (const uint32_t length : paths.prefix_lengths) {
        if (length > path.size()) break;
        if (const auto it = paths.prefix.find(path.substr(0, length)); it != paths.prefix.end()) {
          scan(it->second);
        }
      }
    };
    scan_paths(any_host_);
    if (const auto it = exact_hosts_.find(host); it != exact_hosts_.end()) scan_paths(it->second);
    if (!sub_domains_.empty()) {
      // "*.example.com" holds for "a.example.com" and "a.b.example.com", never the bare
      // domain: look up every suffix that starts at a dot with something before it.
      for (size_t dot = host.find('.', 1); dot != std::string_view::npos;
           dot = host.find('.', dot + 1)) {
        if (const auto it = sub_domains_.find(host.substr(dot)); it != sub_domains_.end()) {
          scan_paths(it->second);
        }
      }
    }
    return best;
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Host names compare without regard to case: hashed and compared lower-cased on the fly, so
  // a request's host is looked up without a lower-cased copy.
  struct Caseless {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
    bool operator()(std::string_view a, std::string_view b) const;
  };
  using Routes = std::vector<uint32_t>;
  struct PathIndex {
    Routes other;  // any path or a regex
    std::unordered_map<std::string, Routes, Hash, std::equal_to<>> exact;
    std::unordered_map<std::string, Routes, Hash, std::equal_to<>> prefix;
    std::vector<uint32_t> prefix_lengths;  // the distinct lengths of `prefix`'s keys, ascending
    void add(uint32_t route, const Key& key);
  };
  using Hosts = std::unordered_map<std::string, PathIndex, Caseless, Caseless>;

  PathIndex any_host_;
  Hosts exact_hosts_;
  Hosts sub_domains_;  // by the suffix with its dot
};

}  // namespace vx::core::route
