#include "core/k8s/vortex_route.h"

#include <gtest/gtest.h>

namespace vx::core::k8s {
namespace {

VortexRoute route(std::vector<BackendSpec> backends) {
  VortexRoute r;
  r.namespace_ = "prod";
  r.name = "api";
  r.generation = 3;
  r.backends = std::move(backends);
  return r;
}

TEST(VortexRouteTest, TurnsBackendsIntoEndpoints) {
  auto endpoints = endpoints_of(route({{0, "10.0.0.1:8080", {"gpt-4"}, 1},
                                       {7, "api-0.api.prod.svc:80", {}, 3},
                                       {2, "[::1]:9000", {}, 1}}));
  ASSERT_TRUE(endpoints.has_value());
  ASSERT_EQ(endpoints->size(), 3u);
  EXPECT_EQ((*endpoints)[0].address.host, "10.0.0.1");
  EXPECT_EQ((*endpoints)[0].address.port, 8080);
  EXPECT_EQ((*endpoints)[0].ai_models, std::vector<std::string>{"gpt-4"});
  EXPECT_EQ((*endpoints)[1].address.text, "api-0.api.prod.svc:80");
  EXPECT_EQ((*endpoints)[1].weight, 3u);
  EXPECT_EQ((*endpoints)[2].address.host, "::1");
  EXPECT_EQ(source_of(route({})), "kubernetes/prod/api");
}

TEST(VortexRouteTest, AcceptsAnEmptyBackendList) {
  auto endpoints = endpoints_of(route({}));
  ASSERT_TRUE(endpoints.has_value());
  EXPECT_TRUE(endpoints->empty());
}

TEST(VortexRouteTest, RefusesABadAddressNamingTheBackend) {
  auto endpoints = endpoints_of(route({{0, "10.0.0.1:8080", {}, 1}, {4, "10.0.0.2", {}, 1}}));
  ASSERT_FALSE(endpoints.has_value());
  EXPECT_EQ(endpoints.error().reason, Reason::InvalidBackend);
  EXPECT_NE(endpoints.error().message.find("spec.backends[1] (id 4)"), std::string::npos)
      << endpoints.error().message;
}

TEST(VortexRouteTest, RefusesAPortOutOfRange) {
  auto endpoints = endpoints_of(route({{0, "10.0.0.1:70000", {}, 1}}));
  ASSERT_FALSE(endpoints.has_value());
  EXPECT_EQ(endpoints.error().reason, Reason::InvalidBackend);
}

TEST(VortexRouteTest, RefusesDuplicateIds) {
  auto endpoints = endpoints_of(route({{1, "10.0.0.1:80", {}, 1}, {1, "10.0.0.2:80", {}, 1}}));
  ASSERT_FALSE(endpoints.has_value());
  EXPECT_EQ(endpoints.error().reason, Reason::DuplicateBackendId);
  EXPECT_EQ(reason_name(endpoints.error().reason), "DuplicateBackendId");
}

TEST(VortexRouteTest, RefusesNegativeIdsZeroWeightsAndEmptyModels) {
  EXPECT_EQ(endpoints_of(route({{-1, "10.0.0.1:80", {}, 1}})).error().reason,
            Reason::InvalidBackend);
  EXPECT_EQ(endpoints_of(route({{0, "10.0.0.1:80", {}, 0}})).error().reason,
            Reason::InvalidBackend);
  EXPECT_EQ(endpoints_of(route({{0, "10.0.0.1:80", {}, 1LL << 33}})).error().reason,
            Reason::InvalidBackend);
  EXPECT_EQ(endpoints_of(route({{0, "10.0.0.1:80", {""}, 1}})).error().reason,
            Reason::InvalidBackend);
}

TEST(VortexRouteTest, RefusesAnUnreadableSpecWithItsMessage) {
  VortexRoute r = route({});
  r.decode_error = "spec.backends[0].id: expected an integer";
  auto endpoints = endpoints_of(r);
  ASSERT_FALSE(endpoints.has_value());
  EXPECT_EQ(endpoints.error().reason, Reason::InvalidSpec);
  EXPECT_EQ(endpoints.error().message, r.decode_error);
}

TEST(VortexRouteTest, RefusesMoreThanTheMaximumOfBackends) {
  std::vector<BackendSpec> many;
  for (size_t i = 0; i <= kMaxBackends; ++i) {
    many.push_back({static_cast<int64_t>(i), "10.0.0.1:80", {}, 1});
  }
  EXPECT_EQ(endpoints_of(route(std::move(many))).error().reason, Reason::InvalidSpec);
}

}  // namespace
}  // namespace vx::core::k8s
