// H2HealthProbe against a real nghttp2 server session (H2Session, server role) wired in memory.
#include "adapters/upstream/health_h2_probe.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace vx::adapters::upstream {
namespace {

using Clock = std::chrono::steady_clock;

struct Origin : h2::H2Events {
  std::map<int32_t, std::string> heads;  // "name=value;" per field
  uint32_t goaway_code = ~0u;

  void on_headers(int32_t id, h2::HeaderBlock& block, bool) override {
    for (const auto& f : block.fields) {
      heads[id] += std::string(block.name(f)) + "=" + std::string(block.value(f)) + ";";
    }
  }
  void on_data(int32_t, std::string_view) override {}
  void on_end_stream(int32_t) override {}
  void on_stream_close(int32_t, uint32_t) override {}
  long on_send_body(int32_t, uint8_t*, size_t, bool& eof, const core::http::HeaderList*&) override {
    eof = true;
    return 0;
  }
  void on_goaway(uint32_t, uint32_t code) override { goaway_code = code; }
};

// Moves bytes both ways until neither side has anything to say.
void pump(H2HealthProbe& probe, h2::H2Session& origin) {
  for (int i = 0; i < 100; ++i) {
    std::string to_origin, to_probe;
    probe.produce(to_origin);
    origin.produce(to_probe);
    if (to_origin.empty() && to_probe.empty()) return;
    if (!to_origin.empty()) origin.receive(to_origin, Clock::now());
    if (!to_probe.empty()) probe.receive(to_probe, Clock::now());
  }
}

struct Wired {
  Origin events;
  h2::H2Session origin{h2::H2Session::Role::Server, {}, events};
  H2HealthProbe probe{"/healthz", "10.0.0.1:9001", "https"};
};

TEST(H2HealthProbeTest, SendsOneGetOfThePathWithTheEndpointAsAuthority) {
  Wired w;
  pump(w.probe, w.origin);
  ASSERT_EQ(w.events.heads.size(), 1u);
  EXPECT_EQ(w.events.heads[1].rfind(
                ":method=GET;:scheme=https;:authority=10.0.0.1:9001;:path=/healthz;", 0),
            0u)
      << w.events.heads[1];
  EXPECT_EQ(w.probe.answer().verdict, ProbeVerdict::NeedMore);
}

TEST(H2HealthProbeTest, A2xxHeadIsHealthyAndEndsTheSessionWithGoaway) {
  Wired w;
  pump(w.probe, w.origin);
  ASSERT_TRUE(w.origin.submit_response(1, 204, {}, false));
  pump(w.probe, w.origin);
  EXPECT_EQ(w.probe.answer().verdict, ProbeVerdict::Healthy);
  EXPECT_EQ(w.probe.answer().status, 204);
  EXPECT_EQ(w.events.goaway_code, 0u);  // NO_ERROR: a goodbye, not a complaint
}

TEST(H2HealthProbeTest, InterimHeadsWaitForTheFinalOne) {
  Wired w;
  pump(w.probe, w.origin);
  ASSERT_TRUE(w.origin.submit_interim(1, 103, {{"link", "</x>"}}));
  pump(w.probe, w.origin);
  EXPECT_EQ(w.probe.answer().verdict, ProbeVerdict::NeedMore);
  ASSERT_TRUE(w.origin.submit_response(1, 200, {}, false));
  pump(w.probe, w.origin);
  EXPECT_EQ(w.probe.answer().verdict, ProbeVerdict::Healthy);
}

TEST(H2HealthProbeTest, NonSuccessStatusIsUnhealthyWithTheStatus) {
  Wired w;
  pump(w.probe, w.origin);
  ASSERT_TRUE(w.origin.submit_response(1, 503, {}, false));
  pump(w.probe, w.origin);
  EXPECT_EQ(w.probe.answer().verdict, ProbeVerdict::Unhealthy);
  EXPECT_EQ(w.probe.answer().status, 503);
  EXPECT_EQ(w.probe.answer().detail, "non-2xx status");
}

TEST(H2HealthProbeTest, AResetStreamIsUnhealthy) {
  Wired w;
  pump(w.probe, w.origin);
  w.origin.reset(1, NGHTTP2_INTERNAL_ERROR);
  pump(w.probe, w.origin);
  EXPECT_EQ(w.probe.answer().verdict, ProbeVerdict::Unhealthy);
  EXPECT_EQ(w.probe.answer().status, 0);
}

TEST(H2HealthProbeTest, APeerThatDoesNotSpeakHttp2IsUnhealthy) {
  H2HealthProbe probe("/healthz", "a:1", "http");
  std::string out;
  probe.produce(out);
  probe.receive("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", Clock::now());
  out.clear();
  probe.produce(out);  // nghttp2's own GOAWAY, where it did not report an error from receive
  EXPECT_EQ(probe.answer().verdict, ProbeVerdict::Unhealthy);
}

TEST(H2HealthProbeTest, AClosedConnectionBeforeAnswerIsUnhealthyButKeepsAVerdictMade) {
  Wired w;
  pump(w.probe, w.origin);
  EXPECT_EQ(w.probe.on_connection_closed().verdict, ProbeVerdict::Unhealthy);

  Wired healthy;
  pump(healthy.probe, healthy.origin);
  ASSERT_TRUE(healthy.origin.submit_response(1, 200, {}, false));
  pump(healthy.probe, healthy.origin);
  EXPECT_EQ(healthy.probe.on_connection_closed().verdict, ProbeVerdict::Healthy);
}

}  // namespace
}  // namespace vx::adapters::upstream
