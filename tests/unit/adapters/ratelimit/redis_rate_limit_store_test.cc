// Drives RedisRateLimitStore against a real redis-server started on a free port per test.
#include "adapters/ratelimit/redis_rate_limit_store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <boost/asio/co_spawn.hpp>

#include "adapters/ratelimit/local_rate_limit_store.h"
#include "adapters/ratelimit/redis_gcra_script.h"

namespace vx::adapters::ratelimit {
namespace {

using core::TimePoint;
using core::ratelimit::Policy;
using core::ratelimit::StoreError;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Executor = ports::RateLimitStore::Executor;
using DecideResult = ports::RateLimitStore::DecideResult;

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A redis-server child process. start() returns once the server logs that it accepts
// connections (read from its stdout: no polling, no sleeps).
class RedisServer {
 public:
  explicit RedisServer(uint16_t port) : port_(port) {}
  ~RedisServer() { kill(); }

  bool start() {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      const std::string port = std::to_string(port_);
      ::execl("/usr/bin/redis-server", "redis-server", "--port", port.c_str(), "--bind",
              "127.0.0.1", "--save", "", "--appendonly", "no", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* out = ::fdopen(fds[0], "r");
    char line[1024];
    bool ready = false;
    while (!ready && std::fgets(line, sizeof line, out) != nullptr) {
      ready = std::string_view(line).find("Ready to accept connections") != std::string_view::npos;
    }
    std::fclose(out);  // redis ignores SIGPIPE: later log lines are simply dropped
    return ready;
  }

  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  // A blocking command from the test itself (never from a worker).
  std::optional<long long> command_integer(const std::string& cmd, int db = 0) {
    redisContext* c = redisConnect("127.0.0.1", port_);
    if (c == nullptr || c->err) {
      if (c) redisFree(c);
      return std::nullopt;
    }
    if (db != 0) freeReplyObject(redisCommand(c, "SELECT %d", db));
    auto* r = static_cast<redisReply*>(redisCommand(c, cmd.c_str()));
    std::optional<long long> out;
    if (r != nullptr && r->type == REDIS_REPLY_INTEGER) out = r->integer;
    if (r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_INTEGER) {
      out = r->element[0]->integer;
    }
    if (r) freeReplyObject(r);
    redisFree(c);
    return out;
  }

 private:
  uint16_t port_;
  pid_t pid_ = -1;
};

Policy policy(std::string name, uint64_t rate, milliseconds period, uint64_t burst) {
  core::config::RateLimitPolicy c;
  c.name = std::move(name);
  c.rate = rate;
  c.period = period;
  c.burst = burst;
  return *Policy::from_config(c);
}

class RedisRateLimitStoreTest : public ::testing::Test {
 protected:
  static constexpr milliseconds kTimeout{300};
  // A bound that only catches a hang: how late an answer may be on a loaded test machine.
  static constexpr milliseconds kSlack{1500};

  void SetUp() override {
    port_ = free_port();
    server_.emplace(port_);
    ASSERT_TRUE(server_->start());
    store_ = make_store(port_, false);
    ASSERT_TRUE(store_);
    ASSERT_TRUE(wait_connected(2));
  }

  void TearDown() override {
    store_.reset();
    server_.reset();
  }

  std::unique_ptr<RedisRateLimitStore> make_store(uint16_t port, bool caller_clock,
                                                  std::string_view db_suffix = "") {
    RedisRateLimitStore::Options o;
    o.url = "redis://127.0.0.1:" + std::to_string(port) + std::string(db_suffix);
    o.timeout = kTimeout;
    o.pool_size = 2;
    o.backoff_initial = milliseconds(10);
    o.backoff_max = milliseconds(100);
    o.use_caller_clock_for_test = caller_clock;
    auto s = RedisRateLimitStore::create(io_, o);
    return s ? std::move(s.value()) : nullptr;
  }

  // Runs the loop until `n` connections are up, or 10 s pass.
  bool wait_connected(std::size_t n, RedisRateLimitStore* store = nullptr) {
    store = store ? store : store_.get();
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (store->connected_count() < n && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_for(milliseconds(100));
    }
    return store->connected_count() >= n;
  }

  DecideResult decide(RedisRateLimitStore& store, const Policy& p, std::string_view key,
                      TimePoint now) {
    std::optional<DecideResult> out;
    boost::asio::co_spawn(
        io_.get_executor(),
        [&]() -> boost::asio::awaitable<void, Executor> {
          out = co_await store.decide(p, key, now);
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    while (!out) io_.run_one();
    return std::move(*out);
  }
  DecideResult decide(const Policy& p, std::string_view key, TimePoint now = TimePoint{}) {
    return decide(*store_, p, key, now);
  }

  boost::asio::io_context io_;
  uint16_t port_ = 0;
  std::optional<RedisServer> server_;
  std::unique_ptr<RedisRateLimitStore> store_;
};

TEST_F(RedisRateLimitStoreTest, MatchesTheLocalStoreDecisionByDecision) {
  auto store = make_store(port_, /*caller_clock=*/true);
  ASSERT_TRUE(wait_connected(2, store.get()));
  LocalRateLimitStore local;
  // T = 1000 s, so the keys' real-time PX never expires them during the test.
  const Policy p = policy("seq", 10, seconds(10000), 2);
  const TimePoint base = TimePoint(std::chrono::hours(100));
  const std::vector<int64_t> at_s = {0,    0,    0,    0,     0,     500,   999,   1000, 1000,
                                     1500, 2000, 2000, 2000,  2000,  9000,  9000,  9000, 9000,
                                     4000, 4000, 9500, 12000, 12000, 12001, 40000, 40000};
  for (std::size_t i = 0; i < at_s.size(); ++i) {
    const TimePoint now = base + seconds(at_s[i]);
    const auto want = local.decide_now(p, "client", now);
    const auto got = decide(*store, p, "client", now);
    ASSERT_TRUE(got.has_value()) << "decision " << i << ": " << to_string(got.error());
    EXPECT_EQ(got->allowed, want.allowed) << "decision " << i;
    EXPECT_EQ(got->remaining, want.remaining) << "decision " << i;
    EXPECT_EQ(got->retry_after, want.retry_after) << "decision " << i;
    EXPECT_EQ(got->reset_after, want.reset_after) << "decision " << i;
    EXPECT_EQ(got->limit, want.limit) << "decision " << i;
    EXPECT_EQ(got->new_tat, want.new_tat) << "decision " << i;
  }
}

TEST_F(RedisRateLimitStoreTest, ServerClockAllowsBurstPlusOneThenDenies) {
  const Policy p = policy("hourly", 1, milliseconds(3600 * 1000), 3);
  for (uint64_t i = 0; i < 4; ++i) {
    auto d = decide(p, "1.2.3.4");
    ASSERT_TRUE(d.has_value()) << to_string(d.error());
    EXPECT_TRUE(d->allowed) << i;
    EXPECT_EQ(d->remaining, 3 - i);
    EXPECT_EQ(d->limit, 4u);
  }
  auto denied = decide(p, "1.2.3.4");
  ASSERT_TRUE(denied.has_value());
  EXPECT_FALSE(denied->allowed);
  EXPECT_EQ(denied->remaining, 0u);
  EXPECT_LE(denied->retry_after, seconds(3600));
  EXPECT_GT(denied->retry_after, seconds(3600 - 60));
  EXPECT_TRUE(decide(p, "5.6.7.8")->allowed) << "another key has its own bucket";
}

TEST_F(RedisRateLimitStoreTest, KeysExpireOnTheirOwn) {
  const Policy p = policy("ttl", 10, milliseconds(1000), 4);  // window 500 ms
  ASSERT_TRUE(decide(p, "k").has_value());
  const auto pttl = server_->command_integer("PTTL " + store_->redis_key("ttl", "k"));
  ASSERT_TRUE(pttl);
  EXPECT_GT(*pttl, 0);
  EXPECT_LE(*pttl, 101);
}

TEST_F(RedisRateLimitStoreTest, UsesTheDatabaseNamedInTheUrl) {
  auto store = make_store(port_, false, "/2");
  ASSERT_TRUE(wait_connected(2, store.get()));
  const Policy p = policy("db", 1, milliseconds(3600 * 1000), 0);
  ASSERT_TRUE(decide(*store, p, "k", TimePoint{}).has_value());
  const std::string exists = "EXISTS " + store->redis_key("db", "k");
  EXPECT_EQ(server_->command_integer(exists, 2), 1);
  EXPECT_EQ(server_->command_integer(exists, 0), 0);
}

TEST_F(RedisRateLimitStoreTest, ConcurrentDecisionsOverThePoolEnforceOneLimit) {
  const Policy p = policy("burst", 1, milliseconds(3600 * 1000), 4);  // limit 5
  int allowed = 0;
  int answered = 0;
  for (int i = 0; i < 60; ++i) {
    boost::asio::co_spawn(
        io_.get_executor(),
        [&]() -> boost::asio::awaitable<void, Executor> {
          auto d = co_await store_->decide(p, "shared", TimePoint{});
          if (d.has_value() && d->allowed) ++allowed;
          if (d.has_value()) ++answered;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  while (answered < 60) ASSERT_TRUE(io_.run_one_for(kTimeout + kSlack) > 0) << "hang";
  EXPECT_EQ(allowed, 5);
}

TEST_F(RedisRateLimitStoreTest, ScriptFlushIsRecoveredByReloadingTheScript) {
  const Policy p = policy("flush", 1, milliseconds(3600 * 1000), 1);
  ASSERT_TRUE(decide(p, "k")->allowed);
  const std::string exists = "SCRIPT EXISTS " + std::string(gcra_script_sha1());
  EXPECT_EQ(server_->command_integer(exists), 1);
  ASSERT_TRUE(server_->command_integer("SCRIPT FLUSH") == std::nullopt);  // a status reply
  EXPECT_EQ(server_->command_integer(exists), 0);
  for (int i = 0; i < 3; ++i) {  // both pool connections meet NOSCRIPT at least once
    auto d = decide(p, "k");
    ASSERT_TRUE(d.has_value()) << to_string(d.error());
    EXPECT_EQ(d->allowed, i == 0) << i;
  }
  EXPECT_EQ(server_->command_integer(exists), 1);
}

TEST_F(RedisRateLimitStoreTest, KilledRedisFailsFastAndARestartedOneWorksAgain) {
  const Policy p = policy("kill", 1, milliseconds(3600 * 1000), 1);
  ASSERT_TRUE(decide(p, "k").has_value());
  server_->kill();
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto d = decide(p, "k");
    EXPECT_FALSE(d.has_value());
    EXPECT_LT(std::chrono::steady_clock::now() - start, kTimeout + kSlack) << "hang";
  }
  server_.emplace(port_);  // a fresh server: no keys, no script cache
  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(wait_connected(2)) << "never reconnected";
  auto d = decide(p, "k");
  ASSERT_TRUE(d.has_value()) << to_string(d.error());
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(d->remaining, 1u) << "the new server starts from a full bucket";
}

TEST_F(RedisRateLimitStoreTest, StalledRedisTimesOutAndTheLateReplyIsDropped) {
  const Policy p = policy("stall", 1, milliseconds(3600 * 1000), 10);
  ASSERT_TRUE(decide(p, "k").has_value());
  server_->pause();
  const auto start = std::chrono::steady_clock::now();
  auto d = decide(p, "k");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error(), StoreError::Timeout);
  EXPECT_GE(took, kTimeout);
  EXPECT_LT(took, kTimeout + kSlack) << "hang";
  server_->resume();
  // The stalled connection now delivers the late reply first; it must be ignored, and
  // later decisions on both connections get their own answers.
  for (int i = 0; i < 4; ++i) {
    auto later = decide(p, "k");
    ASSERT_TRUE(later.has_value()) << i << ": " << to_string(later.error());
    EXPECT_TRUE(later->allowed);
  }
  EXPECT_EQ(decide(p, "k")->remaining, 4u)
      << "the timed-out request still counted once Redis resumed";
}

TEST_F(RedisRateLimitStoreTest, NoRedisAtAllFailsFast) {
  const uint16_t nothing = free_port();
  auto store = make_store(nothing, false);
  ASSERT_TRUE(store);
  const Policy p = policy("none", 1, milliseconds(1000), 0);
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto d = decide(*store, p, "k", TimePoint{});
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.error(), StoreError::Unavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - start, kTimeout + kSlack) << "hang";
  }
}

TEST_F(RedisRateLimitStoreTest, RefusesABadUrl) {
  RedisRateLimitStore::Options o;
  o.url = "redis://nowhere";
  auto s = RedisRateLimitStore::create(io_, o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("bad redis url"), std::string::npos);
}

TEST_F(RedisRateLimitStoreTest, RedisKeysNeverCollideAcrossPolicies) {
  EXPECT_NE(store_->redis_key("a:b", "c"), store_->redis_key("a", "b:c"));
  EXPECT_EQ(store_->redis_key("default", "1.2.3.4"), "vx:rl:7:default:1.2.3.4");
}

}  // namespace
}  // namespace vx::adapters::ratelimit
