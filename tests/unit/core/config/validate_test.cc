#include "core/config/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config/socket_address.h"
#include "support/std_regex_compiler.h"

namespace vx::core::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

SourceLine at(int line, std::vector<std::pair<std::string, int>> keys = {}) {
  return SourceLine{line, std::move(keys)};
}

SocketAddress address(std::string text) {
  auto parsed = parse_socket_address(text, HostKind::IpOrName);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? parsed.value() : SocketAddress{};
}

// One listener, one cluster with one endpoint, one route to it: valid.
Config valid_config() {
  Config c;
  c.file = "vx.yaml";
  c.where = at(1);
  Listener l;
  l.name = "public";
  l.address = address("0.0.0.0:8080");
  l.where = at(3, {{"address", 4}});
  c.listeners.push_back(l);
  Cluster cl;
  cl.name = "api";
  cl.where = at(20, {{"name", 20}, {"endpoints", 21}});
  Endpoint e;
  e.address = address("127.0.0.1:9001");
  e.where = at(22, {{"address", 22}, {"weight", 22}});
  cl.endpoints.push_back(e);
  c.clusters.push_back(cl);
  Route r;
  r.name = "api";
  r.cluster = "api";
  r.where = at(10, {{"name", 10},
                    {"cluster", 11},
                    {"match", 12},
                    {"match.path_regex", 13},
                    {"match.host", 14},
                    {"rate_limit", 15},
                    {"plugins", 16},
                    {"direct_response.status", 17}});
  c.routes.push_back(r);
  return c;
}

std::vector<std::string> check(const Config& c) {
  testing::StdRegexCompiler regex;
  std::vector<std::string> out;
  for (const Diagnostic& d : validate(c, regex)) out.push_back(d.to_string());
  return out;
}

TEST(ValidateTest, AcceptsAMinimalValidConfig) {
  EXPECT_THAT(check(valid_config()), IsEmpty());
}

TEST(ValidateTest, RequiresAtLeastOneListener) {
  Config c = valid_config();
  c.listeners.clear();
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:1: at least one listener is required"));
}

TEST(ValidateTest, ReportsDuplicateNamesOfEveryKindAtTheSecondItem) {
  Config c = valid_config();
  Listener l2 = c.listeners[0];
  l2.address = address("0.0.0.0:8081");
  l2.where = at(5, {{"name", 5}});
  c.listeners.push_back(l2);
  Route r2 = c.routes[0];
  r2.where = at(30, {{"name", 30}});
  c.routes.push_back(r2);
  Cluster cl2 = c.clusters[0];
  cl2.where = at(40, {{"name", 40}});
  c.clusters.push_back(cl2);
  RateLimitPolicy p;
  p.name = "default";
  p.where = at(50, {{"name", 50}});
  c.rate_limits.policies = {p, p};
  c.rate_limits.policies[1].where = at(55, {{"name", 55}});
  WasmPlugin w;
  w.name = "auth";
  w.file = "/a.wasm";
  w.where = at(60, {{"name", 60}});
  c.wasm.plugins = {w, w};
  c.wasm.plugins[1].where = at(65, {{"name", 65}});
  EXPECT_THAT(check(c),
              UnorderedElementsAre("vx.yaml:5: duplicate listener name 'public'",
                                   "vx.yaml:30: duplicate route name 'api'",
                                   "vx.yaml:40: duplicate cluster name 'api'",
                                   "vx.yaml:55: duplicate rate limit policy name 'default'",
                                   "vx.yaml:65: duplicate wasm plugin name 'auth'"));
}

TEST(ValidateTest, ReportsTwoListenersOnTheSameAddress) {
  Config c = valid_config();
  Listener l2 = c.listeners[0];
  l2.name = "other";
  l2.where = at(6, {{"address", 7}});
  c.listeners.push_back(l2);
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:7: duplicate listener address '0.0.0.0:8080'"));
}

TEST(ValidateTest, RouteNeedsExactlyOneOfClusterOrDirectResponse) {
  Config both = valid_config();
  both.routes[0].direct_response = DirectResponse{};
  Config neither = valid_config();
  neither.routes[0].cluster.reset();
  const char* kMessage = "vx.yaml:10: route 'api' needs exactly one of cluster or direct_response";
  EXPECT_THAT(check(both), ElementsAre(kMessage));
  EXPECT_THAT(check(neither), ElementsAre(kMessage));
}

TEST(ValidateTest, ReportsUnknownClusterPolicyAndPluginAtTheirKeys) {
  Config c = valid_config();
  c.routes[0].cluster = "nope";
  c.routes[0].rate_limit = "strict";
  c.routes[0].plugins = {"auth"};
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:11: route 'api': unknown cluster 'nope'",
                                    "vx.yaml:15: route 'api': unknown rate limit policy 'strict'",
                                    "vx.yaml:16: route 'api': unknown wasm plugin 'auth'"));
}

// SPEC.md §7: a cluster Kubernetes fills is declared in the file (without endpoints), so a route
// to an undeclared cluster is refused even with kubernetes enabled.
TEST(ValidateTest, RefusesARouteToAnUndeclaredClusterEvenWithKubernetes) {
  Config c = valid_config();
  c.routes[0].cluster = "default/echo";
  c.kubernetes.enabled = true;
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:11: route 'api': unknown cluster 'default/echo'"));
}

TEST(ValidateTest, AllowsAtMostOnePathMatcher) {
  Config c = valid_config();
  c.routes[0].match.path_prefix = "/a";
  c.routes[0].match.path_exact = "/a";
  EXPECT_THAT(check(c),
              ElementsAre("vx.yaml:12: route 'api': at most one of path_prefix, path_exact, "
                          "path_regex may be set"));
}

// Found by tests/fuzz/config_loader_fuzz.cc: match() compares the path before '?' or '#', so
// such a route was accepted and then matched no request.
TEST(ValidateTest, RefusesAPathPatternHoldingAQueryOrFragment) {
  for (const char* bad : {"/search?q=1", "/a?", "/page#top"}) {
    Config c = valid_config();
    c.routes[0].match.path_exact = bad;
    EXPECT_THAT(check(c), ElementsAre("vx.yaml:10: route 'api': path_exact cannot hold '?' or "
                                      "'#': only the path before the query is matched"))
        << bad;
    c = valid_config();
    c.routes[0].match.path_prefix = bad;
    EXPECT_THAT(check(c), ElementsAre("vx.yaml:10: route 'api': path_prefix cannot hold '?' or "
                                      "'#': only the path before the query is matched"))
        << bad;
  }
  Config c = valid_config();
  c.routes[0].match.path_exact = "a?b";  // one complaint: the first thing wrong
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:10: route 'api': path_exact must start with '/'"));
  c = valid_config();
  c.routes[0].match.path_regex = "^/u/[0-9]?$";  // in a regex '?' is an operator
  EXPECT_THAT(check(c), IsEmpty());
}

TEST(ValidateTest, ReportsABadRegexWithTheEngineMessage) {
  Config c = valid_config();
  c.routes[0].match.path_regex = "^/u/(";
  auto out = check(c);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(out[0], ::testing::StartsWith("vx.yaml:13: route 'api': bad path_regex '^/u/(': "));
  EXPECT_GT(out[0].size(), std::string("vx.yaml:13: route 'api': bad path_regex '^/u/(': ").size());
}

TEST(ValidateTest, AcceptsWildcardOnlyAsTheLeadingLabelOfAHost) {
  for (const char* good : {"api.example.com", "*.example.com", "localhost", "10.0.0.1", "[::1]"}) {
    Config c = valid_config();
    c.routes[0].match.host = good;
    EXPECT_THAT(check(c), IsEmpty()) << good;
  }
  for (const char* bad :
       {"*", "a.*.example.com", "*example.com", "example.com:80", "ex ample", "*.", ""}) {
    Config c = valid_config();
    c.routes[0].match.host = bad;
    EXPECT_THAT(check(c), ElementsAre("vx.yaml:14: route 'api': bad host '" + std::string(bad) +
                                      "': expected a host name or \"*.domain\" (no port)"))
        << bad;
  }
}

TEST(ValidateTest, RefusesMethodAndHeaderNamesThatAreNotTokens) {
  Config c = valid_config();
  c.routes[0].match.methods = {"GET", "PO ST"};
  c.routes[0].match.headers = {{"x-ok", "1"}, {"x:bad", "2"}};
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:10: route 'api': bad method 'PO ST'",
                                    "vx.yaml:10: route 'api': bad header name 'x:bad'"));
}

TEST(ValidateTest, DirectResponseStatusMustBeBetween100And599) {
  for (uint16_t status : {99, 600}) {
    Config c = valid_config();
    c.routes[0].cluster.reset();
    c.routes[0].direct_response = DirectResponse{status, "", "text/plain"};
    EXPECT_THAT(check(c), ElementsAre("vx.yaml:17: route 'api': direct_response status " +
                                      std::to_string(status) + " is not in 100..599"));
  }
  Config ok = valid_config();
  ok.routes[0].cluster.reset();
  ok.routes[0].direct_response = DirectResponse{599, "", "text/plain"};
  EXPECT_THAT(check(ok), IsEmpty());
}

TEST(ValidateTest, ClusterWithoutEndpointsIsAllowedOnlyWithKubernetes) {
  Config c = valid_config();
  c.clusters[0].endpoints.clear();
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:21: cluster 'api' has no endpoints (allowed only "
                                    "with kubernetes.enabled)"));
  c.kubernetes.enabled = true;
  EXPECT_THAT(check(c), IsEmpty());
}

TEST(ValidateTest, EndpointWeightMustBeAtLeastOne) {
  Config c = valid_config();
  c.clusters[0].endpoints[0].weight = 0;
  EXPECT_THAT(check(c),
              ElementsAre("vx.yaml:22: cluster 'api': endpoint weight must be at least 1"));
}

TEST(ValidateTest, ChecksRateLimitPolicies) {
  Config c = valid_config();
  RateLimitPolicy p;
  p.name = "p";
  p.key = "cookie";
  p.rate = 0;
  p.period = Millis(0);
  p.where = at(50, {{"key", 51}, {"rate", 52}, {"period_ms", 53}});
  c.rate_limits.policies.push_back(p);
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:51: rate limit policy 'p': bad key 'cookie': expected "
                                    "client_ip, header:NAME or route",
                                    "vx.yaml:52: rate must be greater than 0",
                                    "vx.yaml:53: period_ms must be greater than 0"));
  for (const char* key : {"client_ip", "route", "header:x-api-key"}) {
    Config ok = valid_config();
    RateLimitPolicy good;
    good.name = "p";
    good.key = key;
    ok.rate_limits.policies.push_back(good);
    EXPECT_THAT(check(ok), IsEmpty()) << key;
  }
  Config empty_header = valid_config();
  RateLimitPolicy bad;
  bad.name = "p";
  bad.key = "header:";
  empty_header.rate_limits.policies.push_back(bad);
  EXPECT_EQ(check(empty_header).size(), 1u);
}

TEST(ValidateTest, RedisUrlMustBeRedisHostPortWithOptionalDb) {
  for (const char* good :
       {"redis://127.0.0.1:6379", "redis://cache:6379/2", "redis://[::1]:6379"}) {
    Config c = valid_config();
    c.rate_limits.redis.url = good;
    EXPECT_THAT(check(c), IsEmpty()) << good;
  }
  for (const char* bad : {"http://127.0.0.1:6379", "redis://127.0.0.1", "redis://h:6379/x",
                          "redis://h:6379/", "127.0.0.1:6379"}) {
    Config c = valid_config();
    c.rate_limits.redis.url = bad;
    c.where = at(1, {{"rate_limits.redis.url", 70}});
    EXPECT_THAT(check(c), ElementsAre("vx.yaml:70: bad redis url '" + std::string(bad) +
                                      "': expected redis://host:port[/db]"))
        << bad;
  }
}

TEST(ValidateTest, SampleRatioMustBeBetweenZeroAndOne) {
  for (double bad : {-0.1, 1.5}) {
    Config c = valid_config();
    c.tracing.sample_ratio = bad;
    c.where = at(1, {{"tracing.sample_ratio", 80}});
    EXPECT_THAT(check(c), ElementsAre("vx.yaml:80: tracing.sample_ratio must be in [0, 1]"));
  }
  Config ok = valid_config();
  ok.tracing.sample_ratio = 1.0;
  EXPECT_THAT(check(ok), IsEmpty());
}

TEST(ValidateTest, LimitsThatMustBePositive) {
  Config c = valid_config();
  c.limits.max_headers = 0;
  c.limits.header_timeout = Millis(0);
  c.limits.max_body_bytes = 0;  // 0 = unlimited: fine
  c.where = at(1, {{"limits.max_headers", 5}, {"limits.header_timeout_ms", 6}});
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:5: max_headers must be greater than 0",
                                    "vx.yaml:6: header_timeout_ms must be greater than 0"));
}

TEST(ValidateTest, ChecksListenerTls) {
  Config c = valid_config();
  c.listeners[0].http3 = true;
  Config tls = valid_config();
  tls.listeners[0].tls = ListenerTls{};
  tls.listeners[0].tls->alpn = {"h2", "spdy/3"};
  EXPECT_THAT(check(c), ElementsAre("vx.yaml:3: listener 'public': http3 needs tls"));
  EXPECT_THAT(check(tls),
              ElementsAre("vx.yaml:3: listener 'public': tls needs at least one certificate",
                          "vx.yaml:3: bad alpn protocol 'spdy/3': expected h2 or http/1.1"));
}

TEST(ValidateTest, ChecksTheOtherSections) {
  Config c = valid_config();
  c.wasm.runtime = "wasmtime";
  c.metrics.address = "localhost:9091";
  c.tracing.otlp_endpoint = "collector:4318";
  c.access_log.format = "xml";
  c.clusters[0].protocol = UpstreamProtocol::H2c;
  c.clusters[0].tls = UpstreamTls{};
  c.clusters[0].health_check = HealthCheck{};
  c.clusters[0].health_check->path = "healthz";
  auto out = check(c);
  EXPECT_THAT(out, UnorderedElementsAre(
                       "vx.yaml:1: bad wasm runtime 'wasmtime': expected v8 or wabt",
                       "vx.yaml:1: bad address 'localhost:9091': expected host:port with an IP "
                       "address host (e.g. 0.0.0.0 or [::])",
                       "vx.yaml:1: bad otlp_endpoint 'collector:4318': expected an http:// or "
                       "https:// URL",
                       "vx.yaml:1: bad access_log format 'xml': expected json",
                       "vx.yaml:20: cluster 'api': tls cannot be used with protocol h2c (use h2)",
                       "vx.yaml:20: cluster 'api': health_check.path must start with '/'"));
}

TEST(ValidateTest, ReportsEveryErrorNotJustTheFirst) {
  Config c = valid_config();
  c.routes[0].cluster = "nope";
  c.clusters[0].endpoints[0].weight = 0;
  c.tracing.sample_ratio = 2;
  c.limits.max_uri_bytes = 0;
  EXPECT_EQ(check(c).size(), 4u);
}

}  // namespace
}  // namespace vx::core::config
