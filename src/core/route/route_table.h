// The ordered routes of one config snapshot, compiled and indexed for matching. Immutable after
// build(); shared by all workers, match() is safe to call concurrently and allocates nothing.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/ports/regex.h"
#include "core/result.h"
#include "core/route/request_view.h"
#include "core/route/route_index.h"

namespace vx::core::route {

class RouteTable {
 public:
  // Copies the routes of `config` (the table does not keep the config alive) and compiles
  // their matchers. Refuses a bad path_regex or more than one path matcher on a route, with a
  // message naming the route; validate() reports those first on a loaded config.
  static Result<RouteTable, std::string> build(const config::Config& config,
                                               const RegexCompiler& regex);

  // Moves keep every Route* handed out valid (the vectors' buffers move whole).
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
    return static_cast<size_t>(route - routes_.data());
  }
  size_t size() const { return routes_.size(); }
  const std::vector<config::Route>& routes() const { return routes_; }

 private:
  struct Matcher;
  RouteTable() = default;

  std::vector<config::Route> routes_;
  std::vector<Matcher> matchers_;  // matchers_[i] belongs to routes_[i]
  RouteIndex index_;               // by position in routes_
};

}  // namespace vx::core::route
