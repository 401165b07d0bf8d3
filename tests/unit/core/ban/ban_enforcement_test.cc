#include "core/ban/ban_enforcement.h"

#include <gtest/gtest.h>

#include <vector>

namespace vx::core::ban {
namespace {

using config::XdpMode;

std::vector<Enforcement> plan(XdpMode mode) {
  const auto p = xdp_attach_plan(mode);
  return {p.begin(), p.end()};
}

TEST(XdpAttachPlan, AutoTriesNativeThenGeneric) {
  EXPECT_EQ(plan(XdpMode::Auto),
            (std::vector<Enforcement>{Enforcement::XdpNative, Enforcement::XdpGeneric}));
}

TEST(XdpAttachPlan, AnExplicitModeIsTheOnlyAttempt) {
  EXPECT_EQ(plan(XdpMode::Native), std::vector<Enforcement>{Enforcement::XdpNative});
  EXPECT_EQ(plan(XdpMode::Generic), std::vector<Enforcement>{Enforcement::XdpGeneric});
}

TEST(EnforcementName, NamesAreTheMetricLabels) {
  EXPECT_EQ(enforcement_name(Enforcement::UserSpace), "userspace");
  EXPECT_EQ(enforcement_name(Enforcement::XdpNative), "xdp_native");
  EXPECT_EQ(enforcement_name(Enforcement::XdpGeneric), "xdp_generic");
}

}  // namespace
}  // namespace vx::core::ban
