// The ordered routes of one config snapshot, compiled and indexed for matching. Immutable after
// build(); shared by all workers, match() is safe to call concurrently and allocates nothing.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/ports/regex.h"
#include "core/result.h"
#include "core/route/request_view.h"
#include "core/route/route_index.h"

namespace vx::core::route {

class RouteTable {
 public:
  // Compiles the matchers of `config`'s routes and keeps `config` alive: the routes are not
  // copied (at 10 000 routes a copy was 7 MB per snapshot). Refuses a bad path_regex or more
  // than one path matcher on a route, with a message naming the route; validate() reports
  // those first on a loaded config.
  static Result<RouteTable, std::string> build(std::shared_ptr<const config::Config> config,
                                               const RegexCompiler& regex);

  // Moves keep every Route* handed out valid (they point into the shared config).
  RouteTable(RouteTable&&) noexcept;
  RouteTable& operator=(RouteTable&&) noexcept;
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;
  ~RouteTable();

  // The first route whose every condition holds, or nullptr (SPEC.md §3: 404 "no route").
  // Host: exact or "*.domain" (a sub-domain of any depth, not the bare domain), compared
  // case-insensitively with the request's port and one trailing dot removed. Path: the part
  // before '?', exact / prefix / full regex match. Methods: any of the list. Headers: every one
  // present with exactly that value. ai_model: equal. Absent conditions always hold.
  const config::Route* match(const RequestView& request) const;
  // Up to this many routes a scan is cheaper than the index's lookups (~9 ns a route against
  // ~140 ns; bench/micro/route_table_bench.cc), so small tables are scanned.
  static constexpr size_t kScanUpTo = 12;
  // Whether every condition of the route at `index` holds, by itself (first match aside).
  bool matches(size_t index, const RequestView& request) const;

  // Position of `route` in the config's order, 0..size()-1, for per-route arrays (metrics,
  // limiter state). REQUIRES: `route` came from this table (match() or routes()).
  size_t index_of(const config::Route* route) const {
    return static_cast<size_t>(route - config_->routes.data());
  }
  size_t size() const { return config_->routes.size(); }
  const std::vector<config::Route>& routes() const { return config_->routes; }

 private:
  struct Matcher;
  RouteTable() = default;
  // matches() with the request's host already without its port and path without its query.
  bool matches(size_t index, std::string_view host, std::string_view path,
               const RequestView& request) const;

  std::shared_ptr<const config::Config> config_;
  std::vector<Matcher> matchers_;  // matchers_[i] belongs to config_->routes[i]
  RouteIndex index_;               // by position in config_->routes
};

}  // namespace vx::core::route
