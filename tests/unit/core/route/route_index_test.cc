// The index must find exactly what a scan of the whole table finds: many generated tables and
// requests, over every kind of condition, compared with the first route whose conditions hold.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "adapters/config/re2_regex_compiler.h"
#include "core/route/route_table.h"
#include "support/map_header_lookup.h"

namespace vx::core::route {
namespace {

using config::Route;

template <typename T>
const T& pick(std::mt19937& rng, const std::vector<T>& from) {
  return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
}

bool chance(std::mt19937& rng, int percent) {
  return std::uniform_int_distribution<int>(0, 99)(rng) < percent;
}

Route generated_route(std::mt19937& rng, size_t n) {
  static const std::vector<std::string> hosts = {"a.com", "B.com", "x.a.com", "y.x.a.com",
                                                 "[::1]", "c.org", "*.a.com", "*.x.a.com",
                                                 "*.com", "*.ORG", "*.b.com"};
  static const std::vector<std::string> exact = {"/", "/a", "/a/b", "/b", "/ab", "/A"};
  static const std::vector<std::string> prefixes = {"", "/", "/a", "/a/", "/ab", "/b", "/a/b/c"};
  static const std::vector<std::string> regexes = {"/a.*", "/[ab]+", ".*", "/b/?"};
  Route r;
  r.name = "r" + std::to_string(n);
  r.cluster = "c";
  if (chance(rng, 70)) r.match.host = pick(rng, hosts);
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0:
      break;
    case 1:
      r.match.path_exact = pick(rng, exact);
      break;
    case 2:
      r.match.path_prefix = pick(rng, prefixes);
      break;
    default:
      r.match.path_regex = pick(rng, regexes);
  }
  if (chance(rng, 20))
    r.match.methods =
        chance(rng, 50) ? std::vector<std::string>{"GET"} : std::vector<std::string>{"POST", "PUT"};
  if (chance(rng, 15)) r.match.headers = {{"x-k", chance(rng, 50) ? "1" : "2"}};
  if (chance(rng, 10)) r.match.ai_model = "m1";
  return r;
}

TEST(RouteIndexTest, FindsWhatAScanOfTheWholeTableFinds) {
  static const std::vector<std::string> hosts = {
      "a.com", "A.COM:8080", "a.com.", "x.a.com",   "z.y.x.a.com", "q.b.com",
      "b.com", "com",        ".com",   "c.org",     "w.C.ORG:443", "[::1]:80",
      "[::1]", "",           "a..com", "x.a.com.:1"};
  static const std::vector<std::string> paths = {"/",    "/a",   "/a?x=1", "/a/b", "/ab",
                                                 "/abc", "/b/c", "",       "/A",   "/a/b/c/d",
                                                 "/b#f", "/b/",  "/zz",    "/a/?q"};
  static const std::vector<std::string> methods = {"GET", "POST", "DELETE"};
  static const std::vector<std::string> models = {"", "m1", "m2"};
  const testing::MapHeaderLookup none({});
  const testing::MapHeaderLookup k1({{"X-K", "1"}});
  const testing::MapHeaderLookup k2({{"x-k", "2"}});
  const std::vector<const HeaderLookup*> header_sets = {nullptr, &none, &k1, &k2};

  adapters::config::Re2RegexCompiler regex;
  std::mt19937 rng(20261205);
  size_t matched = 0, compared = 0;
  for (int table_round = 0; table_round < 300; ++table_round) {
    config::Config config;
    // Small tables are scanned (RouteTable::kScanUpTo); most of these are indexed.
    const size_t size = std::uniform_int_distribution<size_t>(0, 60)(rng);
    for (size_t i = 0; i < size; ++i) config.routes.push_back(generated_route(rng, i));
    auto table =
        RouteTable::build(std::make_shared<const config::Config>(std::move(config)), regex);
    ASSERT_TRUE(table) << table.error();
    for (int request_round = 0; request_round < 200; ++request_round) {
      const RequestView request{pick(rng, methods), pick(rng, hosts), pick(rng, paths),
                                pick(rng, header_sets), pick(rng, models)};
      const Route* scanned = nullptr;
      for (size_t i = 0; i < table->size() && !scanned; ++i) {
        if (table->matches(i, request)) scanned = &table->routes()[i];
      }
      const Route* indexed = table->match(request);
      ASSERT_EQ(indexed, scanned) << "table " << table_round << ": " << request.method << " "
                                  << request.host << " " << request.path << " -> "
                                  << (indexed ? indexed->name : "none") << ", scan "
                                  << (scanned ? scanned->name : "none");
      matched += scanned != nullptr;
      ++compared;
    }
  }
  // The generator must exercise both outcomes, or the comparison proves little.
  EXPECT_GT(matched, compared / 5);
  EXPECT_LT(matched, compared - compared / 10);
}

TEST(RouteIndexTest, TheEarliestRouteWinsAcrossHostAndPathLists) {
  RouteIndex index;
  using K = RouteIndex;
  index.add(0, {K::HostKind::Exact, "a.com", K::PathKind::Exact, "/x"});
  index.add(1, {K::HostKind::SubDomain, ".com", K::PathKind::Prefix, "/"});
  index.add(2, {K::HostKind::Any, "", K::PathKind::Any, ""});
  index.add(3, {K::HostKind::Exact, "a.com", K::PathKind::Prefix, "/y"});
  auto all = [](uint32_t) { return true; };
  EXPECT_EQ(index.first_match("A.com", "/x", all), 0u);
  EXPECT_EQ(index.first_match("b.a.com", "/y", all), 1u);
  EXPECT_EQ(index.first_match("a.com", "/y", all), 1u);  // "*.com" holds for a.com: 1 < 3
  EXPECT_EQ(index.first_match("com", "/y", all), 2u);    // not the bare domain
  auto not_1 = [](uint32_t r) { return r != 1; };
  EXPECT_EQ(index.first_match("a.com", "/y", not_1), 2u);
  RouteIndex empty;
  EXPECT_EQ(empty.first_match("a.com", "/", all), RouteIndex::kNone);
}

}  // namespace
}  // namespace vx::core::route
