#include "core/trace/trace_context.h"

#include <gtest/gtest.h>

#include <string>

namespace vx::core::trace {
namespace {

constexpr std::string_view kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceParentTest, ParsesTheSpecExample) {
  const auto parsed = parse_traceparent(kValid);
  ASSERT_TRUE(parsed);
  char hex[32];
  to_hex(parsed->trace_id, hex);
  EXPECT_EQ(std::string_view(hex, 32), "4bf92f3577b34da6a3ce929d0e0e4736");
  char span[16];
  to_hex(parsed->parent_id, span);
  EXPECT_EQ(std::string_view(span, 16), "00f067aa0ba902b7");
  EXPECT_TRUE(parsed->sampled());
}

TEST(TraceParentTest, ReadsTheSampledFlagOnly) {
  const auto parsed = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->sampled());
}

TEST(TraceParentTest, RefusesWhatTheSpecCallsInvalid) {
  const char* invalid[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",    // short
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // v00 is exactly 55
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero parent id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // bad version
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // bad separator
      "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",   // not hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",   // bad flags
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // later version, no dash
  };
  for (const char* value : invalid) EXPECT_FALSE(parse_traceparent(value)) << value;
}

TEST(TraceParentTest, ReadsALaterVersionAsFarAsVersion00Goes) {
  // W3C §3.2.4: a higher version is parsed by its version-00 prefix; what follows a dash is
  // ignored.
  const auto longer =
      parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future");
  ASSERT_TRUE(longer);
  EXPECT_TRUE(longer->sampled());
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
}

TEST(TraceParentTest, AllowsSurroundingWhitespace) {
  EXPECT_TRUE(parse_traceparent(std::string(" \t") + std::string(kValid) + " "));
}

TEST(TraceParentTest, FormatsVersion00AndReadsItBack) {
  Xoshiro256 random(7);
  const TraceId trace = new_trace_id(random);
  const SpanId span = new_span_id(random);
  char out[kTraceParentSize];
  format_traceparent(trace, span, kSampledFlag, out);
  const auto parsed = parse_traceparent(std::string_view(out, sizeof out));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->trace_id, trace);
  EXPECT_EQ(parsed->parent_id, span);
  EXPECT_EQ(parsed->flags, kSampledFlag);
  EXPECT_EQ(std::string_view(out, 3), "00-");
}

// A generator that yields zero a few times before anything else: ids must never be zero.
class ZeroFirst final : public Random {
 public:
  uint64_t next() override { return calls_++ < 4 ? 0 : 0x1234; }

 private:
  int calls_ = 0;
};

TEST(TraceIdTest, NewIdsAreNeverAllZero) {
  ZeroFirst random;
  EXPECT_TRUE(new_trace_id(random).valid());
  ZeroFirst again;
  EXPECT_TRUE(new_span_id(again).valid());
}

TEST(TraceIdTest, NewIdsDiffer) {
  Xoshiro256 random(1);
  EXPECT_NE(new_trace_id(random), new_trace_id(random));
  EXPECT_NE(new_span_id(random), new_span_id(random));
}

}  // namespace
}  // namespace vx::core::trace
