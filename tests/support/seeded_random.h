// SeededRandom: a core::Random with a fixed seed, so statistical tests are reproducible. Not
// thread-safe; one per test.
#pragma once

#include <cstdint>

#include "core/ports/random.h"

namespace vx::test {

class SeededRandom final : public core::Random {
 public:
  static constexpr uint64_t kDefaultSeed = 0x5eed'0f'7e57ULL;

  explicit SeededRandom(uint64_t seed = kDefaultSeed) : engine_(seed) {}

  // core::Random
  uint64_t next() override { return engine_.next(); }

 private:
  core::Xoshiro256 engine_;
};

}  // namespace vx::test
