#include "proxy/ban_registry.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

namespace vx::proxy {
namespace {

using std::chrono::milliseconds;

core::ban::BanSettings settings(uint32_t after_violations) {
  core::ban::BanSettings s;
  s.after_violations = after_violations;
  s.window = milliseconds(1000);
  s.ttl = milliseconds(500);
  return s;
}

const core::TimePoint kT0{std::chrono::seconds(100)};

TEST(BanRegistryTest, AViewSeesABanFromTheViolationThatMadeItUntilTheSweepLiftsIt) {
  BanRegistry registry(settings(2));
  BanView view(registry);
  EXPECT_FALSE(registry.record_violation("10.0.0.1", kT0));
  EXPECT_FALSE(view.is_banned("10.0.0.1"));
  EXPECT_TRUE(registry.record_violation("10.0.0.1", kT0 + milliseconds(10)));
  EXPECT_TRUE(view.is_banned("10.0.0.1"));
  EXPECT_FALSE(view.is_banned("10.0.0.2"));
  EXPECT_EQ(registry.active(), 1u);
  EXPECT_EQ(registry.sweep(kT0 + milliseconds(100)), 0u);  // not expired yet
  EXPECT_TRUE(view.is_banned("10.0.0.1"));
  EXPECT_EQ(registry.sweep(kT0 + milliseconds(600)), 1u);
  EXPECT_FALSE(view.is_banned("10.0.0.1"));
  EXPECT_EQ(registry.active(), 0u);
}

TEST(BanRegistryTest, ViolationsBanNobodyWhileAutomaticBansAreOffAndAgainOnceAReloadTurnsThemOn) {
  BanRegistry registry(settings(0));
  BanView view(registry);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(registry.record_violation("10.0.0.1", kT0));
  EXPECT_FALSE(view.is_banned("10.0.0.1"));
  registry.update_settings(settings(1));
  EXPECT_TRUE(registry.record_violation("10.0.0.1", kT0));
  EXPECT_TRUE(view.is_banned("10.0.0.1"));
  registry.update_settings(settings(0));
  EXPECT_FALSE(registry.record_violation("10.0.0.2", kT0));
  EXPECT_TRUE(view.is_banned("10.0.0.1"));  // existing bans keep their expiry
}

TEST(BanRegistryTest, ManualBansWorkWithAutomaticBansOffAndUnbanLiftsAtOnce) {
  BanRegistry registry(settings(0));
  BanView view(registry);
  EXPECT_TRUE(registry.ban("192.0.2.9", core::Nanos(0), kT0));
  EXPECT_TRUE(view.is_banned("192.0.2.9"));
  ASSERT_EQ(registry.list(kT0).size(), 1u);
  EXPECT_TRUE(registry.unban("192.0.2.9"));
  EXPECT_FALSE(view.is_banned("192.0.2.9"));
  EXPECT_FALSE(registry.unban("192.0.2.9"));
}

// The registry's threading contract (make test-tsan checks it): workers record violations and
// read their own BanView on accept, the sweeper sweeps, the admin API bans, lists and unbans,
// and a reload changes the settings, all at once.
TEST(BanRegistryTest, WorkersSweeperAdminAndReloadShareItAcrossThreads) {
  constexpr int kRounds = 200;
  BanRegistry registry(settings(1));
  auto worker = [&registry](std::string prefix) {
    BanView view(registry);
    for (int i = 0; i < kRounds; ++i) {
      const std::string ip = prefix + std::to_string(i % 50);
      registry.record_violation(ip, kT0 + milliseconds(i));
      view.is_banned(ip);
      view.is_banned("192.0.2.1");
    }
  };
  std::thread a(worker, "10.0.0."), b(worker, "10.0.1.");
  std::thread sweeper([&] {
    for (int i = 0; i < kRounds; ++i) registry.sweep(kT0 + milliseconds(i * 5));
  });
  std::thread admin([&] {
    for (int i = 0; i < kRounds; ++i) {
      registry.ban("192.0.2.1", milliseconds(100), kT0 + milliseconds(i));
      registry.list(kT0 + milliseconds(i));
      registry.unban("192.0.2.1");
      registry.active();
    }
  });
  std::thread reload([&] {
    for (int i = 0; i < kRounds; ++i) registry.update_settings(settings(i % 3));
  });
  for (std::thread* t : {&a, &b, &sweeper, &admin, &reload}) t->join();

  registry.sweep(kT0 + std::chrono::hours(1));
  BanView view(registry);
  EXPECT_EQ(registry.active(), 0u);
  EXPECT_FALSE(view.is_banned("10.0.0.1"));
  EXPECT_TRUE(registry.ban("192.0.2.1", milliseconds(100), kT0));
  EXPECT_TRUE(view.is_banned("192.0.2.1"));
}

// The kernel side as the registry sees it: every call, in order (the XDP adapter is tested on
// the real kernel in tests/integration/test_xdp.py).
class RecordingSink final : public ports::BanSink {
 public:
  void ban(std::string_view ip, core::TimePoint until) override {
    calls.push_back("ban " + std::string(ip));
    expiry[std::string(ip)] = until;
  }
  void unban(std::string_view ip) override { calls.push_back("unban " + std::string(ip)); }
  std::vector<std::string> calls;
  std::map<std::string, core::TimePoint> expiry;
};

TEST(BanRegistryTest, EveryBanAndLiftReachesTheSinkWithItsExpiry) {
  BanRegistry registry(settings(2));
  RecordingSink sink;
  registry.set_sink(&sink);
  const auto now = core::SteadyClock::now();
  registry.record_violation("10.0.0.1", now);
  registry.record_violation("10.0.0.1", now);  // second violation: banned
  EXPECT_TRUE(registry.ban("fd16::3", milliseconds(2000), now));
  EXPECT_TRUE(registry.unban("fd16::3"));
  EXPECT_EQ(registry.sweep(now + milliseconds(600)), 1u);
  EXPECT_EQ(sink.calls, (std::vector<std::string>{"ban 10.0.0.1", "ban fd16::3", "unban fd16::3",
                                                  "unban 10.0.0.1"}));
  EXPECT_EQ(sink.expiry["10.0.0.1"], now + milliseconds(500));
  EXPECT_EQ(sink.expiry["fd16::3"], now + milliseconds(2000));
}

TEST(BanRegistryTest, ANewSinkIsHandedTheBansInForceAndAnUnhookedOneHearsNothing) {
  BanRegistry registry(settings(0));
  const auto now = core::SteadyClock::now();
  EXPECT_TRUE(registry.ban("10.0.0.1", milliseconds(60000), now));
  EXPECT_TRUE(registry.ban("10.0.0.2", milliseconds(60000), now));
  RecordingSink sink;
  registry.set_sink(&sink);
  EXPECT_EQ(sink.calls, (std::vector<std::string>{"ban 10.0.0.1", "ban 10.0.0.2"}));
  EXPECT_EQ(sink.expiry["10.0.0.2"], now + milliseconds(60000));
  registry.set_sink(nullptr);
  EXPECT_TRUE(registry.unban("10.0.0.1"));
  EXPECT_EQ(sink.calls.size(), 2u);
}

}  // namespace
}  // namespace vx::proxy
