// The Redis rate-limit store's reading of the GCRA script's reply (parse_gcra_reply), on reply
// trees built from the input by hiredis' own reader, as the store's connections receive them:
// the input is what a Redis server sends, in RESP. Each decision then goes through
// rate_limit_header_values, as the RateLimit-* fields and a 429 use it.
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <string_view>

#include "adapters/ratelimit/redis_gcra_script.h"
#include "core/ratelimit/rate_limit_headers.h"
#include "fuzz_support.h"

namespace {

constexpr int kMaxReplies = 64;

// hiredis 0.14 allocates an array's element pointers for the count the server announces, before
// any element arrives: "*333333334\r\n" alone asks for 2.6 GB and ends the process. That is
// hiredis, not Vortex (docs/fuzzing.md; tests/fuzz/findings-for-review/redis_reply/), so
// counts of 7 digits or more are skipped to keep the campaign on parse_gcra_reply.
bool announces_a_huge_array(std::string_view resp) {
  for (size_t at = resp.find('*'); at != std::string_view::npos; at = resp.find('*', at + 1)) {
    size_t digits = 0;
    while (at + 1 + digits < resp.size() && resp[at + 1 + digits] >= '0' &&
           resp[at + 1 + digits] <= '9') {
      ++digits;
    }
    if (digits >= 7) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (announces_a_huge_array(input)) return 0;
  vx::fuzz::Choices choices(input);
  // A steady clock some days after boot, as on a server.
  const vx::core::TimePoint now{std::chrono::hours(24 * 30) +
                                std::chrono::seconds(choices.below(365 * 24 * 3600))};
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, input.data(), input.size());
  for (int i = 0; i < kMaxReplies; ++i) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader, &reply) != REDIS_OK || reply == nullptr) break;
    const uint64_t limit = 1 + choices.below(1000);  // burst + 1 of some policy
    const auto decision =
        vx::adapters::ratelimit::parse_gcra_reply(static_cast<redisReply*>(reply), now, limit);
    if (decision) {
      VX_FUZZ_CHECK(decision->limit == limit);
      VX_FUZZ_CHECK(decision->new_tat >= now && decision->new_tat - now == decision->reset_after);
      VX_FUZZ_CHECK(decision->retry_after.count() >= 0);
      const auto values = vx::core::ratelimit::rate_limit_header_values(*decision);
      // rate_limit_headers.h: "Remaining <= Limit always holds".
      VX_FUZZ_CHECK(values.remaining <= values.limit);
    }
    freeReplyObject(reply);
  }
  redisReaderFree(reader);
  return 0;
}
