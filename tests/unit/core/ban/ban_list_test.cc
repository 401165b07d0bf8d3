#include "core/ban/ban_list.h"

#include <gtest/gtest.h>

namespace vx::core::ban {
namespace {

using std::chrono::seconds;

TimePoint at(Nanos d) {
  return TimePoint(d);
}

BanSettings three_in_ten_seconds() {
  BanSettings s;
  s.after_violations = 3;
  s.window = seconds(10);
  s.ttl = seconds(60);
  return s;
}

TEST(BanListTest, BansOnTheThresholdViolationWithinTheWindow) {
  BanList bans(three_in_ten_seconds());
  EXPECT_FALSE(bans.record_violation("1.1.1.1", at(seconds(100))));
  EXPECT_FALSE(bans.record_violation("1.1.1.1", at(seconds(101))));
  EXPECT_FALSE(bans.is_banned("1.1.1.1", at(seconds(101))));
  const auto until = bans.record_violation("1.1.1.1", at(seconds(109)));
  ASSERT_TRUE(until);
  EXPECT_EQ(*until, at(seconds(169)));
  EXPECT_TRUE(bans.is_banned("1.1.1.1", at(seconds(109))));
  EXPECT_FALSE(bans.is_banned("2.2.2.2", at(seconds(109))));
}

TEST(BanListTest, ViolationsSpreadPastTheWindowDoNotBan) {
  BanList bans(three_in_ten_seconds());
  bans.record_violation("1.1.1.1", at(seconds(100)));
  bans.record_violation("1.1.1.1", at(seconds(105)));
  EXPECT_FALSE(bans.record_violation("1.1.1.1", at(seconds(110))))
      << "the window [100, 110) closed: this opens a new one";
  EXPECT_FALSE(bans.record_violation("1.1.1.1", at(seconds(111))));
  EXPECT_TRUE(bans.record_violation("1.1.1.1", at(seconds(112))));
}

TEST(BanListTest, ZeroThresholdTurnsAutomaticBansOff) {
  BanSettings s = three_in_ten_seconds();
  s.after_violations = 0;
  BanList bans(s);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(bans.record_violation("1.1.1.1", at(seconds(1))));
  EXPECT_EQ(bans.offenders_size_for_test(), 0u);
  EXPECT_TRUE(bans.ban("1.1.1.1", seconds(5), at(seconds(1))));
}

TEST(BanListTest, BanExpiresAtItsTtlAndSweepReportsIt) {
  BanList bans(three_in_ten_seconds());
  bans.ban("1.1.1.1", seconds(5), at(seconds(10)));
  bans.ban("2.2.2.2", seconds(50), at(seconds(10)));
  EXPECT_TRUE(bans.is_banned("1.1.1.1", at(seconds(15)) - Nanos(1)));
  EXPECT_FALSE(bans.is_banned("1.1.1.1", at(seconds(15))));
  EXPECT_EQ(bans.sweep(at(seconds(15))), std::vector<std::string>{"1.1.1.1"});
  EXPECT_TRUE(bans.sweep(at(seconds(16))).empty());
  EXPECT_EQ(bans.bans_size_for_test(), 1u);
}

TEST(BanListTest, ZeroTtlUsesTheConfiguredTtl) {
  BanList bans(three_in_ten_seconds());
  EXPECT_EQ(bans.ban("1.1.1.1", Nanos(0), at(seconds(1))), at(seconds(61)));
}

TEST(BanListTest, BanAgainReplacesTheExpiry) {
  BanList bans(three_in_ten_seconds());
  bans.ban("1.1.1.1", seconds(100), at(seconds(0)));
  bans.ban("1.1.1.1", seconds(1), at(seconds(0)));
  EXPECT_FALSE(bans.is_banned("1.1.1.1", at(seconds(2))));
}

TEST(BanListTest, UnbanLiftsTheBanAndForgetsOffences) {
  BanList bans(three_in_ten_seconds());
  bans.record_violation("1.1.1.1", at(seconds(1)));
  bans.record_violation("1.1.1.1", at(seconds(1)));
  EXPECT_FALSE(bans.unban("1.1.1.1")) << "not banned yet";
  EXPECT_FALSE(bans.record_violation("1.1.1.1", at(seconds(1)))) << "count restarted";
  bans.ban("1.1.1.1", seconds(5), at(seconds(1)));
  EXPECT_TRUE(bans.unban("1.1.1.1"));
  EXPECT_FALSE(bans.is_banned("1.1.1.1", at(seconds(2))));
}

TEST(BanListTest, ViolationsWhileBannedDoNotExtendTheBan) {
  BanList bans(three_in_ten_seconds());
  bans.ban("1.1.1.1", seconds(5), at(seconds(0)));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(bans.record_violation("1.1.1.1", at(seconds(1))));
  EXPECT_FALSE(bans.is_banned("1.1.1.1", at(seconds(5))));
}

TEST(BanListTest, CountingRestartsAfterABan) {
  BanList bans(three_in_ten_seconds());
  for (int i = 0; i < 3; ++i) bans.record_violation("1.1.1.1", at(seconds(1)));
  EXPECT_EQ(bans.offenders_size_for_test(), 0u);
  EXPECT_EQ(bans.sweep(at(seconds(61))), std::vector<std::string>{"1.1.1.1"});
  EXPECT_FALSE(bans.record_violation("1.1.1.1", at(seconds(62))));
}

TEST(BanListTest, ListShowsOnlyActiveBansSortedByAddress) {
  BanList bans(three_in_ten_seconds());
  bans.ban("9.9.9.9", seconds(10), at(seconds(0)));
  bans.ban("1.1.1.1", seconds(10), at(seconds(0)));
  bans.ban("5.5.5.5", seconds(1), at(seconds(0)));
  const std::vector<BanEntry> want{{"1.1.1.1", at(seconds(10))}, {"9.9.9.9", at(seconds(10))}};
  EXPECT_EQ(bans.list(at(seconds(2))), want);
}

TEST(BanListTest, OffenderTableIsBoundedAndSweepFreesRoom) {
  BanSettings s = three_in_ten_seconds();
  s.max_offenders = 2;
  BanList bans(s);
  bans.record_violation("a", at(seconds(0)));
  bans.record_violation("b", at(seconds(0)));
  bans.record_violation("c", at(seconds(0)));
  EXPECT_EQ(bans.offenders_size_for_test(), 2u);
  bans.record_violation("c", at(seconds(0)));
  EXPECT_FALSE(bans.record_violation("c", at(seconds(0)))) << "c was never tracked";
  bans.sweep(at(seconds(10)));
  EXPECT_EQ(bans.offenders_size_for_test(), 0u);
  for (int i = 0; i < 2; ++i) bans.record_violation("c", at(seconds(11)));
  EXPECT_TRUE(bans.record_violation("c", at(seconds(11))));
}

TEST(BanListTest, BanTableIsBounded) {
  BanSettings s = three_in_ten_seconds();
  s.max_bans = 1;
  BanList bans(s);
  EXPECT_TRUE(bans.ban("a", seconds(1), at(seconds(0))));
  EXPECT_FALSE(bans.ban("b", seconds(1), at(seconds(0))));
  EXPECT_TRUE(bans.ban("a", seconds(2), at(seconds(0)))) << "moving an existing ban still works";
  EXPECT_FALSE(bans.is_banned("b", at(seconds(0))));
}

TEST(BanListTest, BuildsSettingsFromConfig) {
  config::Bans c;
  c.after_violations = 7;
  const BanSettings s = BanSettings::from_config(c);
  EXPECT_EQ(s.after_violations, 7u);
  EXPECT_EQ(s.window, seconds(10));
  EXPECT_EQ(s.ttl, seconds(60));
}

}  // namespace
}  // namespace vx::core::ban
