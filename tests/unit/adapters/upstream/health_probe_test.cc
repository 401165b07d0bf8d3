#include "adapters/upstream/health_probe.h"

#include <gtest/gtest.h>

#include <string>

namespace vx::adapters::upstream {
namespace {

TEST(HealthProbeTest, RequestIsAGetOfThePathWithHostAndClose) {
  const std::string request = health_probe_request("/healthz", "10.0.0.1:9001");
  EXPECT_EQ(request.rfind("GET /healthz HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(request.find("\r\nHost: 10.0.0.1:9001\r\n"), std::string::npos);
  EXPECT_NE(request.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_TRUE(request.ends_with("\r\n\r\n"));
}

TEST(HealthProbeTest, A2xxHeadIsHealthyWithoutItsBody) {
  const ProbeAnswer answer = judge_probe_response("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n");
  EXPECT_EQ(answer.verdict, ProbeVerdict::Healthy);
  EXPECT_EQ(answer.status, 204);
  EXPECT_EQ(judge_probe_response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial").verdict,
            ProbeVerdict::Healthy);
}

TEST(HealthProbeTest, NonSuccessStatusesAreUnhealthy) {
  for (const char* head : {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
                           "HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
                           "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"}) {
    const ProbeAnswer answer = judge_probe_response(head);
    EXPECT_EQ(answer.verdict, ProbeVerdict::Unhealthy) << head;
    EXPECT_GE(answer.status, 300) << head;
  }
}

TEST(HealthProbeTest, AnIncompleteHeadNeedsMore) {
  EXPECT_EQ(judge_probe_response("").verdict, ProbeVerdict::NeedMore);
  EXPECT_EQ(judge_probe_response("HTTP/1.1 200 OK\r\nContent-Le").verdict, ProbeVerdict::NeedMore);
}

TEST(HealthProbeTest, GarbageIsUnhealthyAtOnce) {
  const ProbeAnswer answer = judge_probe_response("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  EXPECT_EQ(answer.verdict, ProbeVerdict::Unhealthy);
  EXPECT_FALSE(answer.detail.empty());
}

TEST(HealthProbeTest, AnEndlessHeadIsUnhealthy) {
  std::string head = "HTTP/1.1 200 OK\r\n";
  while (head.size() < 20 * 1024) head += "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  EXPECT_EQ(judge_probe_response(head).verdict, ProbeVerdict::Unhealthy);
}

}  // namespace
}  // namespace vx::adapters::upstream
