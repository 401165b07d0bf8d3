#include "adapters/net/idle_connections.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace vx::adapters::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

const steady_clock::time_point kStart = steady_clock::time_point() + std::chrono::hours(1);

struct Waiter final : IdleWaiter {
  Waiter(std::string name, std::vector<std::string>& log) : name(std::move(name)), log(log) {}
  void park() override { log.push_back("park " + name); }
  std::string name;
  std::vector<std::string>& log;
};

struct Parked final : ParkedConnection {
  Parked(std::string name, steady_clock::time_point deadline, boost::asio::io_context& io,
         std::vector<std::string>& log)
      : ParkedConnection(deadline), socket(io.get_executor()), name(std::move(name)), log(log) {}
  Socket& tcp() override { return socket; }
  ports::Awaitable<void> resume(ConnectionSlot&, const ConnectionEnv&) override {
    co_return;  // not called here: the listener resumes parked connections
  }
  void drain() override { log.push_back("close " + name); }
  Socket socket;
  std::string name;
  std::vector<std::string>& log;
};

TEST(IdleConnectionsTest, ParksWaitersIdleForParkAfterOldestFirst) {
  std::vector<std::string> log;
  IdleConnections idle;
  Waiter a("a", log), b("b", log), c("c", log);
  idle.waiting(a, kStart);
  idle.waiting(b, kStart + milliseconds(300));
  idle.waiting(c, kStart + milliseconds(900));
  idle.sweep(kStart + IdleConnections::kParkAfter - milliseconds(1));
  EXPECT_TRUE(log.empty());
  idle.sweep(kStart + IdleConnections::kParkAfter + milliseconds(300));
  EXPECT_EQ(log, (std::vector<std::string>{"park a", "park b"}));
  EXPECT_FALSE(a.linked());
  EXPECT_TRUE(c.linked());
}

TEST(IdleConnectionsTest, AWaiterWhoseBytesCameLeavesTheList) {
  std::vector<std::string> log;
  IdleConnections idle;
  Waiter a("a", log);
  {
    Waiter gone("gone", log);
    idle.waiting(gone, kStart);
  }  // destroyed while listed: it unlinks itself
  idle.waiting(a, kStart);
  a.unlink();  // its bytes came
  idle.sweep(kStart + std::chrono::hours(1));
  EXPECT_TRUE(log.empty());
}

TEST(IdleConnectionsTest, ClosesParkedConnectionsInDeadlineOrder) {
  boost::asio::io_context io;
  std::vector<std::string> log;
  IdleConnections idle;
  Parked late("late", kStart + milliseconds(5000), io, log);
  Parked early("early", kStart + milliseconds(3000), io, log);  // a reload shortened the timeout
  Parked mid("mid", kStart + milliseconds(4000), io, log);
  idle.parked(late);
  idle.parked(early);
  idle.parked(mid);
  // The next sweep is due at a tick, or earlier at the first deadline.
  EXPECT_EQ(idle.sweep(kStart), kStart + IdleConnections::kTick);
  EXPECT_EQ(idle.sweep(kStart + milliseconds(2500)), kStart + milliseconds(3000));
  EXPECT_EQ(idle.sweep(kStart + milliseconds(4000)), kStart + milliseconds(5000));
  EXPECT_EQ(log, (std::vector<std::string>{"close early", "close mid"}));
  EXPECT_TRUE(late.linked());
}

TEST(IdleConnectionsTest, OnlyIdleTimeoutsThatOutlastParkingPark) {
  EXPECT_FALSE(IdleConnections::parkable(milliseconds(1000)));
  EXPECT_FALSE(IdleConnections::parkable(IdleConnections::kMinParkedIdle - milliseconds(1)));
  EXPECT_TRUE(IdleConnections::parkable(IdleConnections::kMinParkedIdle));
  EXPECT_TRUE(IdleConnections::parkable(milliseconds(60000)));
}

TEST(IdleConnectionsTest, EntriesOutliveTheirListSafely) {
  std::vector<std::string> log;
  Waiter a("a", log);
  {
    IdleConnections idle;
    idle.waiting(a, kStart);
  }
  EXPECT_FALSE(a.linked());
}

}  // namespace
}  // namespace vx::adapters::net
