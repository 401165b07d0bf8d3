#include "core/config/diagnostic.h"

#include <gtest/gtest.h>

#include "core/config/config.h"

namespace vx::core::config {
namespace {

TEST(DiagnosticTest, FormatsAsFileLineMessage) {
  EXPECT_EQ((Diagnostic{"vx.yaml", 12, "unknown key 'x'"}).to_string(),
            "vx.yaml:12: unknown key 'x'");
}

TEST(DiagnosticTest, OmitsAnUnknownLine) {
  EXPECT_EQ((Diagnostic{"vx.yaml", 0, "cannot read file"}).to_string(),
            "vx.yaml: cannot read file");
}

TEST(SourceLineTest, FindsTheLineOfAKeyOrFallsBackToTheItem) {
  SourceLine where{7, {{"timeout_ms", 9}, {"match.host", 11}}};
  EXPECT_EQ(where.of("match.host"), 11);
  EXPECT_EQ(where.of("cluster"), 7);
}

TEST(ConfigTest, FindsClustersPoliciesAndPluginsByName) {
  Config c;
  c.clusters.resize(2);
  c.clusters[1].name = "b";
  c.rate_limits.policies.resize(1);
  c.rate_limits.policies[0].name = "p";
  c.wasm.plugins.resize(1);
  c.wasm.plugins[0].name = "w";
  EXPECT_EQ(c.find_cluster("b"), &c.clusters[1]);
  EXPECT_EQ(c.find_cluster("z"), nullptr);
  EXPECT_EQ(c.find_policy("p"), &c.rate_limits.policies[0]);
  EXPECT_EQ(c.find_plugin("w"), &c.wasm.plugins[0]);
  EXPECT_EQ(c.find_plugin("x"), nullptr);
}

}  // namespace
}  // namespace vx::core::config
