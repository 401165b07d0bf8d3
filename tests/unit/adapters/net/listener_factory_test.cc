#include "adapters/net/listener_factory.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "support/seeded_random.h"

namespace vx::adapters::net {
namespace {

// The listeners under test never get a request through: no upstream is ever asked for.
class NoUpstreams final : public ports::UpstreamPool {
 public:
  ports::AsyncResult<ports::UpstreamLease> acquire(const ports::UpstreamTarget&, bool) override {
    co_return core::unexpected(
        core::http::Error{core::http::ErrorKind::UpstreamConnectRefused, "no upstreams"});
  }
  ports::UpstreamLease take_idle(const ports::UpstreamTarget&) override { return {}; }
};

class ListenerFactoryTest : public ::testing::Test {
 protected:
  core::config::Listener listener_at(uint16_t port) {
    core::config::Listener config;
    config.name = "public";
    config.address = {"127.0.0.1", port, "127.0.0.1:" + std::to_string(port)};
    return config;
  }
  ListenerEnv env() { return {io_.get_executor(), limits_, worker_, budget_}; }

  boost::asio::io_context io_;
  proxy::RuntimeHolder holder_;
  NoUpstreams pool_;
  test::SeededRandom random_;
  proxy::WorkerContext worker_{proxy::WorkerRuntime(holder_), pool_, random_, {}};
  core::config::Limits limits_;
  ConnectionBudget budget_;
};

TEST_F(ListenerFactoryTest, APlainListenerGetsOneTcpListenerServingItsConfig) {
  const auto config = listener_at(0);
  auto listeners = make_listeners(config, env());
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_EQ(&listeners[0]->config(), &config);
  EXPECT_EQ(listeners[0]->live_connections(), 0u);
  EXPECT_TRUE(listeners[0]->open());
}

TEST_F(ListenerFactoryTest, EveryWorkerBindsTheSameAddress) {
  boost::asio::ip::tcp::acceptor probe(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = probe.local_endpoint().port();
  probe.close();
  const auto config = listener_at(port);
  auto first = make_listeners(config, env());
  auto second = make_listeners(config, env());
  EXPECT_TRUE(first[0]->open());
  EXPECT_TRUE(second[0]->open());  // SO_REUSEPORT: the kernel spreads connections
}

TEST_F(ListenerFactoryTest, AnAddressTakenByAnotherProgramIsRefusedWithTheListenerName) {
  boost::asio::ip::tcp::acceptor taken(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = taken.local_endpoint().port();
  const auto config = listener_at(port);
  auto listeners = make_listeners(config, env());
  auto opened = listeners[0]->open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().rfind(
                "listener public: cannot bind 127.0.0.1:" + std::to_string(port) + ": ", 0),
            0u)
      << opened.error();
}

}  // namespace
}  // namespace vx::adapters::net
