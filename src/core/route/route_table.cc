// Route matching: the index (route_index.h) narrows the table to the routes a request's host
// and path could select; each candidate is checked by its precompiled matcher, and the first in
// config order that holds wins. Patterns are lowered at build time so the request side compares
// in place without copying or allocating.
#include "core/route/route_table.h"

namespace vx::core::route {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// `lower_pattern` is already lower case.
bool equals_ignore_case(std::string_view text, std::string_view lower_pattern) {
  if (text.size() != lower_pattern.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (lower(text[i]) != lower_pattern[i]) return false;
  }
  return true;
}

// "Example.com:8080" -> "Example.com", "[::1]:80" -> "[::1]", "example.com." -> "example.com".
std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.find(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

// A plain loop: find_first_of("?#") calls memchr for every character of the path, ~70
// instructions each, and this runs for every request.
std::string_view path_without_query(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '?' || path[i] == '#') return path.substr(0, i);
  }
  return path;
}

}  // namespace

struct RouteTable::Matcher {
  enum class HostKind : uint8_t { Any, Exact, SubDomain };
  enum class PathKind : uint8_t { Any, Exact, Prefix, Regex };

  HostKind host_kind = HostKind::Any;
  std::string host;  // lower case; for SubDomain the suffix with its dot: ".example.com"
  PathKind path_kind = PathKind::Any;
  std::string path;
  std::unique_ptr<const Regex> regex;
  const config::RouteMatch* match = nullptr;  // methods, ai_model
  // match->headers with the names lowered for HeaderLookup::get; most routes have none.
  std::vector<std::pair<std::string, std::string>> headers;

  // `h`: the request's host without its port (host_without_port).
  bool host_matches(std::string_view h) const {
    if (host_kind == HostKind::Any) return true;
    if (host_kind == HostKind::Exact) return equals_ignore_case(h, host);
    // The sub-domain needs at least one character before the dot, so the bare domain fails.
    return h.size() > host.size() && equals_ignore_case(h.substr(h.size() - host.size()), host);
  }

  // `p`: the request's path without its query (path_without_query).
  bool path_matches(std::string_view p) const {
    switch (path_kind) {
      case PathKind::Any:
        return true;
      case PathKind::Exact:
        return p == path;
      case PathKind::Prefix:
        return p.substr(0, path.size()) == path;
      case PathKind::Regex:
        return regex->full_match(p);
    }
    return false;
  }

  bool rest_matches(const RequestView& request) const {
    if (!match->methods.empty()) {
      bool any = false;
      for (const std::string& m : match->methods) {
        if (m == request.method) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    for (const auto& [name, value] : headers) {
      if (request.headers == nullptr) return false;
      std::optional<std::string_view> got = request.headers->get(name);
      if (!got || *got != value) return false;
    }
    if (match->ai_model && request.ai_model != *match->ai_model) return false;
    return true;
  }

  RouteIndex::Key index_key() const {
    RouteIndex::Key key;
    key.host_kind = host_kind == HostKind::Exact       ? RouteIndex::HostKind::Exact
                    : host_kind == HostKind::SubDomain ? RouteIndex::HostKind::SubDomain
                                                       : RouteIndex::HostKind::Any;
    key.host = host;
    key.path_kind = path_kind == PathKind::Exact    ? RouteIndex::PathKind::Exact
                    : path_kind == PathKind::Prefix ? RouteIndex::PathKind::Prefix
                    : path_kind == PathKind::Regex  ? RouteIndex::PathKind::Other
                                                    : RouteIndex::PathKind::Any;
    key.path = path;
    return key;
  }
};

RouteTable::RouteTable(RouteTable&&) noexcept = default;
RouteTable& RouteTable::operator=(RouteTable&&) noexcept = default;
RouteTable::~RouteTable() = default;

Result<RouteTable, std::string> RouteTable::build(std::shared_ptr<const config::Config> config,
                                                  const RegexCompiler& regex) {
  RouteTable table;
  table.config_ = std::move(config);
  const std::vector<config::Route>& routes = table.config_->routes;
  table.matchers_.resize(routes.size());
  for (size_t i = 0; i < routes.size(); ++i) {
    const config::Route& r = routes[i];
    Matcher& m = table.matchers_[i];
    m.match = &r.match;
    // Header names are compared in lower case against HeaderLookup::get's contract.
    for (const auto& [name, value] : r.match.headers) m.headers.emplace_back(to_lower(name), value);
    if (r.match.host) {
      std::string host = to_lower(*r.match.host);
      if (host.rfind("*.", 0) == 0) {
        m.host_kind = Matcher::HostKind::SubDomain;
        m.host = host.substr(1);
      } else {
        m.host_kind = Matcher::HostKind::Exact;
        m.host = std::move(host);
      }
    }
    int paths = int(r.match.path_prefix.has_value()) + int(r.match.path_exact.has_value()) +
                int(r.match.path_regex.has_value());
    if (paths > 1) {
      return unexpected("route '" + r.name + "': more than one path matcher");
    }
    if (r.match.path_exact) {
      m.path_kind = Matcher::PathKind::Exact;
      m.path = *r.match.path_exact;
    } else if (r.match.path_prefix) {
      m.path_kind = Matcher::PathKind::Prefix;
      m.path = *r.match.path_prefix;
    } else if (r.match.path_regex) {
      auto compiled = regex.compile(*r.match.path_regex);
      if (!compiled) {
        return unexpected("route '" + r.name + "': bad path_regex '" + *r.match.path_regex +
                          "': " + compiled.error());
      }
      m.path_kind = Matcher::PathKind::Regex;
      m.regex = std::move(compiled.value());
    }
    table.index_.add(static_cast<uint32_t>(i), m.index_key());
  }
  return table;
}

bool RouteTable::matches(size_t index, const RequestView& request) const {
  return matches(index, host_without_port(request.host), path_without_query(request.path), request);
}

bool RouteTable::matches(size_t index, std::string_view host, std::string_view path,
                         const RequestView& request) const {
  const Matcher& m = matchers_[index];
  return m.host_matches(host) && m.path_matches(path) && m.rest_matches(request);
}

const config::Route* RouteTable::match(const RequestView& request) const {
  const std::vector<config::Route>& routes = config_->routes;
  // Stripped once, not once per candidate.
  const std::string_view host = host_without_port(request.host);
  const std::string_view path = path_without_query(request.path);
  if (routes.size() <= kScanUpTo) {
    for (size_t i = 0; i < routes.size(); ++i) {
      if (matches(i, host, path, request)) return &routes[i];
    }
    return nullptr;
  }
  const uint32_t first =
      index_.first_match(host, path, [&](uint32_t i) { return matches(i, host, path, request); });
  return first == RouteIndex::kNone ? nullptr : &routes[first];
}

}  // namespace vx::core::route
