#include "core/k8s/route_overlay.h"

#include <gtest/gtest.h>

#include "core/config/socket_address.h"

namespace vx::core::k8s {
namespace {

config::Cluster cluster(std::string name, std::vector<std::string> endpoints = {}) {
  config::Cluster c;
  c.name = std::move(name);
  for (const auto& text : endpoints) {
    config::Endpoint e;
    e.address = *config::parse_socket_address(text, config::HostKind::IpOrName);
    c.endpoints.push_back(e);
  }
  return c;
}

std::shared_ptr<const config::Config> file_config() {
  auto c = std::make_shared<config::Config>();
  c->kubernetes.enabled = true;
  c->kubernetes.namespace_ = "prod";
  c->clusters = {cluster("api"), cluster("web"), cluster("static", {"127.0.0.1:9000"})};
  return c;
}

VortexRoute route(std::string name, std::vector<BackendSpec> backends) {
  VortexRoute r;
  r.namespace_ = "prod";
  r.name = std::move(name);
  r.backends = std::move(backends);
  return r;
}

TEST(RouteOverlayTest, AnEmptyViewLeavesTheFileConfigAsItIs) {
  const auto file = file_config();
  const Overlaid out = overlay(file, {});
  EXPECT_EQ(out.config, file);
  EXPECT_TRUE(out.verdicts.empty());
}

TEST(RouteOverlayTest, FillsTheNamedClusterAndLeavesTheFileUntouched) {
  const auto file = file_config();
  RouteView view;
  view["api"] = route("api", {{0, "10.0.0.1:80", {}, 2}, {1, "10.0.0.2:80", {}, 1}});
  const Overlaid out = overlay(file, view);
  ASSERT_NE(out.config, file);
  const auto* api = out.config->find_cluster("api");
  ASSERT_EQ(api->endpoints.size(), 2u);
  EXPECT_EQ(api->endpoints[0].address.text, "10.0.0.1:80");
  EXPECT_EQ(api->endpoints[0].weight, 2u);
  EXPECT_EQ(api->endpoints[1].address.text, "10.0.0.2:80");
  EXPECT_TRUE(out.config->find_cluster("web")->endpoints.empty());
  EXPECT_TRUE(file->find_cluster("api")->endpoints.empty());
  EXPECT_TRUE(out.verdicts.at("api").accepted());
}

TEST(RouteOverlayTest, ReportsAResourceWithoutAClusterAndAppliesTheOthers) {
  RouteView view;
  view["api"] = route("api", {{0, "10.0.0.1:80", {}, 1}});
  view["gone"] = route("gone", {{0, "10.0.0.9:80", {}, 1}});
  const Overlaid out = overlay(file_config(), view);
  EXPECT_EQ(out.verdicts.at("gone").reason, Reason::NoSuchCluster);
  EXPECT_EQ(out.config->find_cluster("api")->endpoints.size(), 1u);
  EXPECT_EQ(out.config->find_cluster("gone"), nullptr);
}

TEST(RouteOverlayTest, TheFileWinsForAClusterWithItsOwnEndpoints) {
  RouteView view;
  view["static"] = route("static", {{0, "10.0.0.1:80", {}, 1}});
  const Overlaid out = overlay(file_config(), view);
  EXPECT_EQ(out.verdicts.at("static").reason, Reason::ClusterHasEndpoints);
  ASSERT_EQ(out.config->find_cluster("static")->endpoints.size(), 1u);
  EXPECT_EQ(out.config->find_cluster("static")->endpoints[0].address.text, "127.0.0.1:9000");
}

TEST(RouteOverlayTest, ABadResourceChangesNothingWhileAGoodOneApplies) {
  RouteView view;
  view["api"] = route("api", {{0, "10.0.0.1:80", {}, 1}, {0, "10.0.0.2:80", {}, 1}});
  view["web"] = route("web", {{0, "10.0.0.3:80", {}, 1}});
  const Overlaid out = overlay(file_config(), view);
  EXPECT_EQ(out.verdicts.at("api").reason, Reason::DuplicateBackendId);
  EXPECT_TRUE(out.config->find_cluster("api")->endpoints.empty());
  EXPECT_EQ(out.config->find_cluster("web")->endpoints.size(), 1u);
}

TEST(RouteOverlayTest, ARefusedUpdateKeepsTheVersionInEffect) {
  RouteView before;
  before["api"] = route("api", {{0, "10.0.0.1:80", {}, 1}});
  before["api"].generation = 1;
  const Overlaid first = overlay(file_config(), before);
  ASSERT_EQ(first.in_effect.size(), 1u);

  RouteView after;
  after["api"] = route("api", {{0, "10.0.0.1:80", {}, 1}, {0, "10.0.0.2:80", {}, 1}});
  after["api"].generation = 2;
  const Overlaid second = overlay(file_config(), after, first.in_effect);
  EXPECT_EQ(second.verdicts.at("api").reason, Reason::DuplicateBackendId);
  EXPECT_NE(second.verdicts.at("api").message.find("keeps the endpoints of generation 1"),
            std::string::npos);
  ASSERT_EQ(second.config->find_cluster("api")->endpoints.size(), 1u);
  EXPECT_EQ(second.config->find_cluster("api")->endpoints[0].address.text, "10.0.0.1:80");
  EXPECT_EQ(second.in_effect.at("api").generation, 1);

  // Without a version before it, a refused resource fills nothing.
  const Overlaid fresh = overlay(file_config(), after);
  EXPECT_TRUE(fresh.config->find_cluster("api")->endpoints.empty());
  EXPECT_TRUE(fresh.in_effect.empty());
}

}  // namespace
}  // namespace vx::core::k8s
