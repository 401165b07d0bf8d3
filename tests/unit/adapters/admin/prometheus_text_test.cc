#include "adapters/admin/prometheus_text.h"

#include <gtest/gtest.h>

namespace vx::adapters::admin {
namespace {

TEST(PrometheusTextTest, EscapesBackslashQuoteAndNewlineInLabelValues) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)"
                               "\n"),
            R"(a\\b\"c\n)");
  EXPECT_EQ(escape_label_value("plain:80"), "plain:80");
}

TEST(PrometheusTextTest, WritesHelpTypeAndSamples) {
  PrometheusText out;
  out.family("x_total", "counter", "Things.\nMore");
  out.sample("x_total", {{"a", "1"}, {"b", "q\""}}, uint64_t{3});
  out.sample("x_total", {}, 0.25);
  EXPECT_EQ(out.text(),
            "# HELP x_total Things.\\nMore\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"1\",b=\"q\\\"\"} 3\n"
            "x_total 0.25\n");
}

}  // namespace
}  // namespace vx::adapters::admin
