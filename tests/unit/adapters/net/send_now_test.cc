// send_now against a real connected TCP pair on loopback: whole writes, short writes (a tiny
// send buffer and a peer that does not read) and a peer that is gone.
#include "adapters/net/send_now.h"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ports/buffer_view.h"
#include "support/loopback_pair.h"

namespace vx::adapters::net {
namespace {

namespace asio = boost::asio;

struct Pair : test::LoopbackPair {
  std::string read_exactly(size_t n) {
    std::string got(n, '\0');
    asio::read(reader, asio::buffer(got));
    return got;
  }
};

std::vector<asio::const_buffer> gather(const std::vector<std::string>& pieces) {
  std::vector<asio::const_buffer> buffers;
  for (const auto& p : pieces) buffers.emplace_back(p.data(), p.size());
  return buffers;
}

TEST(SendNowTest, SmallGatheredWriteGoesAtOnce) {
  Pair pair;
  const std::vector<std::string> pieces = {"HTTP/1.1 200 OK\r\n", "content-length: 2\r\n\r\n",
                                           "ok"};
  auto buffers = gather(pieces);
  const auto sent = send_now(pair.writer, buffers);
  ASSERT_TRUE(sent.has_value());
  EXPECT_FALSE(std::get<0>(*sent));
  EXPECT_EQ(std::get<1>(*sent), 40u);
  EXPECT_EQ(pair.read_exactly(40), pieces[0] + pieces[1] + pieces[2]);
}

TEST(SendNowTest, ShortWriteLeavesExactlyTheUnsentBytes) {
  Pair pair;
  pair.writer.set_option(asio::socket_base::send_buffer_size(4096));
  pair.reader.set_option(asio::socket_base::receive_buffer_size(4096));
  // Far more than the two buffers hold, in pieces of odd sizes so the cut falls inside one.
  std::vector<std::string> pieces;
  std::string all;
  for (int i = 0; i < 40; ++i) {
    pieces.emplace_back(1000 + 37 * i, static_cast<char>('a' + i % 26));
    all += pieces.back();
  }
  auto buffers = gather(pieces);
  const auto sent = send_now(pair.writer, buffers);
  ASSERT_FALSE(sent.has_value()) << "the kernel took " << all.size() << " bytes at once";
  size_t left = 0;
  for (const auto& b : buffers) left += b.size();
  ASSERT_GT(left, 0u);
  ASSERT_LT(left, all.size());
  // The bytes sent now and the rest written normally make the whole message, in order.
  std::string got;
  std::thread reader([&] { got = pair.read_exactly(all.size()); });
  asio::write(pair.writer, ports::BufferView(buffers));
  reader.join();
  EXPECT_EQ(got, all);
}

TEST(SendNowTest, MoreThanSixtyFourPiecesAreNeverReportedDone) {
  Pair pair;
  std::vector<std::string> pieces(70, "xy");
  auto buffers = gather(pieces);
  const auto sent = send_now(pair.writer, buffers);
  ASSERT_FALSE(sent.has_value());
  ASSERT_EQ(buffers.size(), 6u);  // the first 64 pieces went
  asio::write(pair.writer, ports::BufferView(buffers));
  std::string all;
  for (const auto& p : pieces) all += p;
  EXPECT_EQ(pair.read_exactly(all.size()), all);
}

TEST(SendNowTest, PeerGoneIsAnError) {
  Pair pair;
  pair.reader.set_option(asio::socket_base::linger(true, 0));
  pair.reader.close();  // RST
  const std::string piece = "GET / HTTP/1.1\r\n\r\n";
  std::optional<SendResult> sent;
  for (int i = 0; i < 10 && !(sent && std::get<0>(*sent)); ++i) {
    auto buffers = gather({piece});
    sent = send_now(pair.writer, buffers);
  }
  ASSERT_TRUE(sent.has_value());
  EXPECT_TRUE(std::get<0>(*sent));
}

}  // namespace
}  // namespace vx::adapters::net
