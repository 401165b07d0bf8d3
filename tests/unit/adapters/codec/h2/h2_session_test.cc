// H2Session driven against itself: a client session and a server session wired in memory,
// the real nghttp2 on both sides (no mocks).
#include "adapters/codec/h2/h2_session.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>

namespace vx::adapters::h2 {
namespace {

using Clock = std::chrono::steady_clock;

struct Recorder : H2Events {
  std::map<int32_t, std::string> heads;  // "name=value;" per field
  std::map<int32_t, std::string> data;
  std::map<int32_t, bool> ended;
  std::map<int32_t, uint32_t> closed;
  std::string body_to_send;
  core::http::HeaderList trailers_to_send;

  void on_headers(int32_t id, HeaderBlock& block, bool end_stream) override {
    for (const auto& f : block.fields) {
      heads[id] += std::string(block.name(f)) + "=" + std::string(block.value(f)) + ";";
    }
    if (end_stream) ended[id] = true;
  }
  void on_data(int32_t id, std::string_view d) override { data[id] += d; }
  void on_end_stream(int32_t id) override { ended[id] = true; }
  void on_stream_close(int32_t id, uint32_t code) override { closed[id] = code; }
  long on_send_body(int32_t, uint8_t* into, size_t max, bool& eof,
                    const core::http::HeaderList*& trailers) override {
    const size_t n = std::min(max, body_to_send.size());
    std::memcpy(into, body_to_send.data(), n);
    body_to_send.erase(0, n);
    if (body_to_send.empty()) {
      eof = true;
      if (!trailers_to_send.empty()) trailers = &trailers_to_send;
    }
    return static_cast<long>(n);
  }
};

// Moves bytes both ways until neither side has anything to say.
void pump(H2Session& a, H2Session& b) {
  for (int i = 0; i < 100; ++i) {
    std::string ab, ba;
    a.produce(ab);
    b.produce(ba);
    if (ab.empty() && ba.empty()) return;
    if (!ab.empty()) b.receive(ab, Clock::now());
    if (!ba.empty()) a.receive(ba, Clock::now());
  }
}

TEST(H2SessionTest, RequestAndResponseWithBodyAndTrailersCrossIntact) {
  Recorder client_events, server_events;
  H2Session client(H2Session::Role::Client, {}, client_events);
  H2Session server(H2Session::Role::Server, {}, server_events);
  const core::http::HeaderList request_headers{{"X-Upper", "v"}, {"te", "trailers"}};
  const int32_t id = client.submit_request("GET", "http", "a.test", "/p", request_headers, false);
  ASSERT_EQ(id, 1);
  pump(client, server);
  EXPECT_EQ(server_events.heads[1],
            ":method=GET;:scheme=http;:authority=a.test;:path=/p;x-upper=v;te=trailers;");
  EXPECT_TRUE(server_events.ended[1]);

  server_events.body_to_send = "hello";
  server_events.trailers_to_send = {{"grpc-status", "0"}};
  ASSERT_TRUE(server.submit_response(1, 200, {{"Content-Type", "text/plain"}}, true));
  pump(client, server);
  EXPECT_EQ(client_events.heads[1], ":status=200;content-type=text/plain;grpc-status=0;");
  EXPECT_EQ(client_events.data[1], "hello");
  EXPECT_TRUE(client_events.ended[1]);
}

TEST(H2SessionTest, ReceivedDataIsNotAcknowledgedUntilConsumed) {
  Recorder client_events, server_events;
  H2Settings small;
  H2Session client(H2Session::Role::Client, {}, client_events);
  H2Session server(H2Session::Role::Server, small, server_events);
  client_events.body_to_send = std::string(200000, 'x');
  client.submit_request("POST", "http", "a.test", "/up", {}, true);
  pump(client, server);
  // Only the initial stream window crossed; the rest waits for consume().
  EXPECT_EQ(server_events.data[1].size(), 65535u);
  server.consume(1, server_events.data[1].size());
  pump(client, server);
  EXPECT_EQ(server_events.data[1].size(), 131070u);
}

TEST(H2SessionTest, HeaderListOverTheLimitEndsTheSessionWithEnhanceYourCalm) {
  Recorder client_events, server_events;
  H2Settings tight;
  tight.max_header_list = 1024;
  H2Session client(H2Session::Role::Client, {}, client_events);
  H2Session server(H2Session::Role::Server, tight, server_events);
  client.submit_request("GET", "http", "a.test", "/", {{"x-big", std::string(4000, 'a')}}, false);
  pump(client, server);
  EXPECT_TRUE(server.fatal());
  EXPECT_EQ(server.goaway_code(), static_cast<uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
  EXPECT_TRUE(server_events.heads.empty());
}

// nghttp2 keeps a server's closed streams for the priority tree, trimmed only past its own
// MAX_CONCURRENT_STREAMS, which the session never tells it: a long-lived connection kept every
// stream it ever carried, ~250 bytes each, until it closed (the fault soak's RSS drift).
TEST(H2SessionTest, ServerForgetsEveryStreamOnceItClosed) {
  Recorder client_events, server_events;
  H2Session client(H2Session::Role::Client, {}, client_events);
  H2Session server(H2Session::Role::Server, {}, server_events);
  for (int i = 0; i < 300; ++i) {  // past the announced limit of 100 streams
    const int32_t id = client.submit_request("GET", "http", "a.test", "/", {}, false);
    pump(client, server);
    ASSERT_TRUE(server.submit_response(id, 200, {}, false));
    pump(client, server);
    ASSERT_TRUE(client_events.ended[id]);
    ASSERT_EQ(server_events.closed.count(id), 1u);
    ASSERT_FALSE(server.stream_is_open(id)) << "stream " << id;
  }
}

TEST(FloodGuardTest, CountsPerWindowAndForgetsOldWindows) {
  FloodGuard guard(3);
  const Clock::time_point t0{std::chrono::seconds(100)};
  EXPECT_FALSE(guard.over(t0));
  EXPECT_FALSE(guard.over(t0));
  EXPECT_FALSE(guard.over(t0));
  EXPECT_TRUE(guard.over(t0 + std::chrono::milliseconds(999)));
  EXPECT_FALSE(guard.over(t0 + std::chrono::milliseconds(1000)));
}

}  // namespace
}  // namespace vx::adapters::h2
