// See local_rate_limit_store.h.
#include "adapters/ratelimit/local_rate_limit_store.h"

#include <algorithm>
#include <array>
#include <functional>
#include <new>

namespace vx::adapters::ratelimit {
namespace {

using core::TimePoint;
using core::ratelimit::Decision;

// Sampled per eviction: enough to usually find an expired key, small enough to stay O(1).
constexpr std::size_t kEvictionSamples = 8;

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// "policy\0key": one map for every policy. NUL cannot occur in an HTTP header value, a client
// address or (in practice) a policy name, so two (policy, key) pairs never collide.
std::string_view composite_key(std::string& buf, std::string_view policy, std::string_view key) {
  buf.assign(policy);
  buf.push_back('\0');
  buf.append(key);
  return buf;
}

}  // namespace

struct alignas(64) LocalRateLimitStore::Shard {
  std::mutex mu;
  std::unordered_map<std::string, TimePoint, KeyHash, std::equal_to<>> tats;
  core::Xoshiro256 rng{0};

  // Makes room for one key. REQUIRES: mu held, tats non-empty.
  void evict_one(TimePoint now) {
    std::array<std::pair<std::string_view, TimePoint>, kEvictionSamples> seen;
    std::size_t n = 0;
    const std::size_t buckets = tats.bucket_count();
    std::size_t b = rng.below(buckets);
    for (std::size_t visited = 0; visited < buckets && n < seen.size(); ++visited) {
      for (auto it = tats.begin(b); it != tats.end(b) && n < seen.size(); ++it) {
        seen[n++] = {it->first, it->second};
      }
      b = b + 1 == buckets ? 0 : b + 1;
    }
    bool freed = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (seen[i].second <= now) {
        tats.erase(tats.find(seen[i].first));
        freed = true;
      }
    }
    if (freed) return;
    auto oldest =
        std::min_element(seen.begin(), seen.begin() + n,
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    tats.erase(tats.find(oldest->first));
  }
};

LocalRateLimitStore::LocalRateLimitStore(Options options)
    : per_shard_cap_(std::max<std::size_t>(
          1, (options.max_keys + std::max<std::size_t>(options.shards, 1) - 1) /
                 std::max<std::size_t>(options.shards, 1))),
      shards_(new Shard[std::max<std::size_t>(options.shards, 1)]),
      shard_count_(std::max<std::size_t>(options.shards, 1)) {
  for (std::size_t i = 0; i < shard_count_; ++i) {
    shards_[i].rng = core::Xoshiro256(options.seed + i);
    shards_[i].tats.reserve(std::min<std::size_t>(per_shard_cap_, 1024));
  }
}

LocalRateLimitStore::~LocalRateLimitStore() = default;

Decision LocalRateLimitStore::decide_now(const core::ratelimit::Policy& policy,
                                         std::string_view key, TimePoint now) {
  // One buffer per thread: building the composite key allocates only when a key is longer
  // than any this thread has seen before.
  thread_local std::string buf;
  const std::string_view k = composite_key(buf, policy.name, key);
  const std::size_t h = KeyHash{}(k);
  // The map uses the low bits of the same hash for its buckets; the high bits pick the shard.
  Shard& shard = shards_[(h >> 40) % shard_count_];

  std::lock_guard lock(shard.mu);
  auto it = shard.tats.find(k);
  if (it != shard.tats.end()) {
    const Decision d = core::ratelimit::gcra_decide(it->second, now, policy.gcra);
    it->second = d.new_tat;
    return d;
  }
  const Decision d = core::ratelimit::gcra_decide(std::nullopt, now, policy.gcra);
  if (shard.tats.size() >= per_shard_cap_) shard.evict_one(now);
  shard.tats.emplace(std::string(k), d.new_tat);
  return d;
}

boost::asio::awaitable<LocalRateLimitStore::DecideResult, LocalRateLimitStore::Executor>
LocalRateLimitStore::decide(const core::ratelimit::Policy& policy, std::string_view key,
                            TimePoint now) {
  co_return decide_now(policy, key, now);
}

std::size_t LocalRateLimitStore::sweep(TimePoint now) {
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mu);
    dropped += std::erase_if(shards_[i].tats, [now](const auto& kv) { return kv.second <= now; });
  }
  return dropped;
}

std::size_t LocalRateLimitStore::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].tats.size();
  }
  return n;
}

}  // namespace vx::adapters::ratelimit
