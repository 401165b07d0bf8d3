#include "core/route/route_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

#include "adapters/config/re2_regex_compiler.h"
#include "support/map_header_lookup.h"

// Counts heap allocations so a test can check that match() makes none. Sanitizer builds keep
// their own allocator (replacing it there trips ASan's new/free pairing checks).
#if defined(__SANITIZE_ADDRESS__)
#define VX_COUNT_ALLOCATIONS 0
#else
#define VX_COUNT_ALLOCATIONS 1
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#endif

namespace vx::core::route {
namespace {

using config::Route;

Route route(std::string name, config::RouteMatch match = {}) {
  Route r;
  r.name = std::move(name);
  r.match = std::move(match);
  r.cluster = "c";
  return r;
}

class RouteTableTest : public ::testing::Test {
 protected:
  RouteTable build(std::vector<Route> routes) {
    config::Config c;
    c.routes = std::move(routes);
    auto table = RouteTable::build(std::make_shared<const config::Config>(std::move(c)), regex_);
    EXPECT_TRUE(table.has_value()) << (table ? "" : table.error());
    return std::move(table).value();
  }

  // Name of the matched route, or "" for none.
  static std::string matched(const RouteTable& t, RequestView req) {
    const Route* r = t.match(req);
    return r == nullptr ? "" : r->name;
  }

  static RequestView get(std::string_view host, std::string_view path) {
    return RequestView{"GET", host, path, nullptr, {}};
  }

  adapters::config::Re2RegexCompiler regex_;
};

TEST_F(RouteTableTest, EmptyTableMatchesNothing) {
  RouteTable t = build({});
  EXPECT_EQ(t.match(get("a", "/")), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

TEST_F(RouteTableTest, ARouteWithoutConditionsMatchesEverything) {
  RouteTable t = build({route("all")});
  EXPECT_EQ(matched(t, get("", "/anything?x=1")), "all");
}

TEST_F(RouteTableTest, ExactHostIgnoresCaseAndPort) {
  RouteTable t = build({route("api", {.host = "API.example.com"})});
  EXPECT_EQ(matched(t, get("api.example.com", "/")), "api");
  EXPECT_EQ(matched(t, get("Api.Example.COM:8443", "/")), "api");
  EXPECT_EQ(matched(t, get("api.example.com.", "/")), "api");
  EXPECT_EQ(matched(t, get("www.example.com", "/")), "");
  EXPECT_EQ(matched(t, get("api.example.co", "/")), "");
  EXPECT_EQ(matched(t, get("", "/")), "");
}

TEST_F(RouteTableTest, WildcardHostMatchesSubDomainsButNotTheBareDomain) {
  RouteTable t = build({route("wild", {.host = "*.example.com"})});
  EXPECT_EQ(matched(t, get("a.example.com", "/")), "wild");
  EXPECT_EQ(matched(t, get("a.b.EXAMPLE.com:80", "/")), "wild");
  EXPECT_EQ(matched(t, get("example.com", "/")), "");
  EXPECT_EQ(matched(t, get(".example.com", "/")), "");
  EXPECT_EQ(matched(t, get("badexample.com", "/")), "");
}

TEST_F(RouteTableTest, Ipv6HostKeepsItsBracketsAndDropsThePort) {
  RouteTable t = build({route("v6", {.host = "[::1]"})});
  EXPECT_EQ(matched(t, get("[::1]:8080", "/")), "v6");
  EXPECT_EQ(matched(t, get("[::2]:8080", "/")), "");
}

TEST_F(RouteTableTest, PathExactPrefixAndRegexIgnoreTheQuery) {
  RouteTable t =
      build({route("exact", {.path_exact = "/hello"}), route("regex", {.path_regex = "/u/[0-9]+"}),
             route("prefix", {.path_prefix = "/v1/"})});
  EXPECT_EQ(matched(t, get("h", "/hello")), "exact");
  EXPECT_EQ(matched(t, get("h", "/hello?name=x")), "exact");
  EXPECT_EQ(matched(t, get("h", "/hello/")), "");
  EXPECT_EQ(matched(t, get("h", "/u/42?x=/v1/")), "regex");
  EXPECT_EQ(matched(t, get("h", "/u/42x")), "");  // full match, not a search
  EXPECT_EQ(matched(t, get("h", "/v1/users")), "prefix");
  EXPECT_EQ(matched(t, get("h", "/v1")), "");
  EXPECT_EQ(matched(t, get("h", "/x?/v1/")), "");
}

TEST_F(RouteTableTest, AnchoredRegexWorksToo) {
  RouteTable t = build({route("regex", {.path_regex = "^/u/[0-9]+$"})});
  EXPECT_EQ(matched(t, get("h", "/u/7")), "regex");
}

TEST_F(RouteTableTest, MethodsMatchAnyOfTheList) {
  RouteTable t = build({route("rw", {.methods = {"GET", "POST"}})});
  EXPECT_EQ(matched(t, RequestView{"POST", "h", "/", nullptr, {}}), "rw");
  EXPECT_EQ(matched(t, RequestView{"GET", "h", "/", nullptr, {}}), "rw");
  EXPECT_EQ(matched(t, RequestView{"DELETE", "h", "/", nullptr, {}}), "");
  EXPECT_EQ(matched(t, RequestView{"get", "h", "/", nullptr, {}}),
            "");  // methods are case-sensitive
}

TEST_F(RouteTableTest, EveryListedHeaderMustBePresentWithExactlyThatValue) {
  RouteTable t = build({route("tenant", {.headers = {{"X-Tenant", "a"}, {"x-env", "prod"}}})});
  testing::MapHeaderLookup both{{"x-tenant", "a"}, {"X-ENV", "prod"}};
  testing::MapHeaderLookup one{{"x-tenant", "a"}};
  testing::MapHeaderLookup wrong{{"x-tenant", "A"}, {"x-env", "prod"}};
  EXPECT_EQ(matched(t, RequestView{"GET", "h", "/", &both, {}}), "tenant");
  EXPECT_EQ(matched(t, RequestView{"GET", "h", "/", &one, {}}), "");
  EXPECT_EQ(matched(t, RequestView{"GET", "h", "/", &wrong, {}}), "");
  EXPECT_EQ(matched(t, RequestView{"GET", "h", "/", nullptr, {}}), "");
}

TEST_F(RouteTableTest, AiModelMustBeEqual) {
  RouteTable t = build({route("gpt", {.ai_model = "gpt-4"})});
  EXPECT_EQ(matched(t, RequestView{"POST", "h", "/", nullptr, "gpt-4"}), "gpt");
  EXPECT_EQ(matched(t, RequestView{"POST", "h", "/", nullptr, "gpt-4o"}), "");
  EXPECT_EQ(matched(t, RequestView{"POST", "h", "/", nullptr, ""}), "");
}

TEST_F(RouteTableTest, FirstMatchWins) {
  RouteTable t = build({route("specific", {.host = "api.example.com", .path_prefix = "/v1/"}),
                        route("api", {.host = "api.example.com"}), route("fallback")});
  EXPECT_EQ(matched(t, get("api.example.com", "/v1/x")), "specific");
  EXPECT_EQ(matched(t, get("api.example.com", "/v2/x")), "api");
  EXPECT_EQ(matched(t, get("other", "/v1/x")), "fallback");
}

TEST_F(RouteTableTest, AllConditionsMustHoldTogether) {
  RouteTable t =
      build({route("all", {.host = "*.example.com", .path_prefix = "/a", .methods = {"PUT"}})});
  EXPECT_EQ(matched(t, RequestView{"PUT", "x.example.com", "/a", nullptr, {}}), "all");
  EXPECT_EQ(matched(t, RequestView{"GET", "x.example.com", "/a", nullptr, {}}), "");
  EXPECT_EQ(matched(t, RequestView{"PUT", "x.example.org", "/a", nullptr, {}}), "");
  EXPECT_EQ(matched(t, RequestView{"PUT", "x.example.com", "/b", nullptr, {}}), "");
}

TEST_F(RouteTableTest, IndexOfGivesTheConfigOrderAndSurvivesAMove) {
  RouteTable t = build({route("a", {.path_exact = "/a"}), route("b", {.path_prefix = "/b"})});
  const Route* b = t.match(get("h", "/b"));
  ASSERT_NE(b, nullptr);
  RouteTable moved = std::move(t);
  EXPECT_EQ(moved.index_of(b), 1u);
  EXPECT_EQ(moved.match(get("h", "/b")), b);
  EXPECT_EQ(moved.routes()[1].name, "b");
}

TEST_F(RouteTableTest, MatchingAllocatesNothing) {
#if !VX_COUNT_ALLOCATIONS
  GTEST_SKIP() << "allocation counting is off in sanitizer builds";
#else
  RouteTable t = build(
      {route("a", {.host = "*.example.com", .path_regex = "/u/[0-9]+"}),
       route("b", {.headers = {{"x-tenant", "a"}}, .ai_model = "m"}),
       route("c", {.host = "api.example.com", .path_prefix = "/v1/", .methods = {"GET", "POST"}})});
  testing::MapHeaderLookup headers{{"X-Tenant", "a"}};
  RequestView requests[] = {
      {"GET", "x.Example.com:80", "/u/1?q", &headers, "m"},
      {"GET", "other", "/v1/x", &headers, "m"},
      {"POST", "API.example.com", "/v1/x?y", nullptr, ""},
      {"PUT", "api.example.com", "/nothing", nullptr, ""},
  };
  for (const RequestView& r : requests) t.match(r);  // warm RE2's lazily built DFA
  long before = g_allocations.load();
  int found = 0;
  for (int i = 0; i < 100; ++i) {
    for (const RequestView& r : requests) found += t.match(r) != nullptr;
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(found, 300);
#endif
}

TEST_F(RouteTableTest, BuildRefusesABadRegex) {
  config::Config c;
  c.routes = {route("r", {.path_regex = "(unclosed"})};
  auto t = RouteTable::build(std::make_shared<const config::Config>(std::move(c)), regex_);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().rfind("route 'r': bad path_regex '(unclosed': missing )", 0), 0u)
      << t.error();
}

TEST_F(RouteTableTest, BuildRefusesTwoPathMatchers) {
  config::Config c;
  c.routes = {route("r", {.path_prefix = "/a", .path_exact = "/a"})};
  EXPECT_FALSE(
      RouteTable::build(std::make_shared<const config::Config>(std::move(c)), regex_).has_value());
}

}  // namespace
}  // namespace vx::core::route
