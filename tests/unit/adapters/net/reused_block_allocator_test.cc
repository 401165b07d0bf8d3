#include "adapters/net/reused_block_allocator.h"

#include <gtest/gtest.h>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <vector>

namespace vx::adapters::net {
namespace {

namespace asio = boost::asio;

TEST(ReusedBlockTest, HandsOutItsBlockOnceAtATime) {
  ReusedBlock block;
  void* first = block.take(100);
  EXPECT_TRUE(block.in_use());
  void* second = block.take(100);  // still in use: memory of its own
  EXPECT_NE(first, second);
  block.give(second);
  EXPECT_TRUE(block.in_use());
  block.give(first);
  EXPECT_FALSE(block.in_use());
  EXPECT_EQ(block.take(100), first);  // the same block again
  block.give(first);
}

TEST(ReusedBlockTest, ASizeOverTheBlockGetsMemoryOfItsOwn) {
  ReusedBlock block;
  void* big = block.take(ReusedBlock::kBytes + 1);
  EXPECT_FALSE(block.in_use());
  block.give(big);
  EXPECT_FALSE(block.in_use());
}

// What the listener relies on: each accept operation lives in the block while it waits, and
// the block is free again before the next one starts.
TEST(ReusedBlockTest, EveryAcceptOperationLivesInTheBlock) {
  asio::io_context io;
  // As the listener's: sockets bound to the io_context's own executor type (ports::Executor).
  using Executor = asio::io_context::executor_type;
  asio::basic_socket_acceptor<asio::ip::tcp, Executor> acceptor(
      io.get_executor(), {asio::ip::make_address("127.0.0.1"), 0});
  ReusedBlock block;
  int accepted = 0;
  std::vector<asio::ip::tcp::socket> clients;
  std::function<void()> accept_next = [&] {
    acceptor.async_accept(asio::bind_allocator(
        ReusedBlockAllocator<void>(block),
        [&](boost::system::error_code ec, asio::basic_stream_socket<asio::ip::tcp, Executor>) {
          ASSERT_FALSE(ec);
          EXPECT_FALSE(block.in_use()) << "freed before the handler runs";
          if (++accepted < 3) accept_next();
        }));
    EXPECT_TRUE(block.in_use()) << "the pending accept is not in the block";
  };
  accept_next();
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back(io);
    clients.back().connect(acceptor.local_endpoint());
  }
  io.run();
  EXPECT_EQ(accepted, 3);
  EXPECT_FALSE(block.in_use());
}

}  // namespace
}  // namespace vx::adapters::net
