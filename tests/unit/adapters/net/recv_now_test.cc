// recv_now against a real connected TCP pair on loopback: bytes already there, nothing yet, and
// a peer that closed.
#include "adapters/net/recv_now.h"

#include <gtest/gtest.h>

#include <boost/asio/write.hpp>
#include <optional>
#include <string>

#include "support/loopback_pair.h"

namespace vx::adapters::net {
namespace {

namespace asio = boost::asio;
using Pair = test::LoopbackPair;

TEST(RecvNowTest, ReadsWhatIsThere) {
  Pair pair;
  asio::write(pair.writer, asio::buffer(std::string("GET / HTTP/1.1\r\n\r\n")));
  char buf[64];
  std::optional<RecvResult> got;
  for (int i = 0; i < 1000 && !got; ++i)
    got = recv_now(pair.reader, asio::buffer(buf));  // loopback
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(std::get<0>(*got));
  EXPECT_EQ(std::string(buf, std::get<1>(*got)), "GET / HTTP/1.1\r\n\r\n");
}

TEST(RecvNowTest, NothingYetIsNullopt) {
  Pair pair;
  char buf[64];
  EXPECT_FALSE(recv_now(pair.reader, asio::buffer(buf)).has_value());
}

TEST(RecvNowTest, ClosedPeerIsEof) {
  Pair pair;
  pair.writer.close();
  char buf[64];
  std::optional<RecvResult> got;
  for (int i = 0; i < 1000 && !got; ++i) got = recv_now(pair.reader, asio::buffer(buf));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::get<0>(*got), asio::error::eof);
  EXPECT_EQ(std::get<1>(*got), 0u);
}

}  // namespace
}  // namespace vx::adapters::net
