// Regular-expression port: core validates and matches path_regex without knowing the engine
// (RE2 in adapters/config). A compiled Regex is immutable and safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace vx::core {

class Regex {
 public:
  virtual ~Regex() = default;
  // True when the whole of `text` matches (anchored at both ends). Must not allocate per call
  // and must be callable concurrently from any thread.
  virtual bool full_match(std::string_view text) const = 0;
};

class RegexCompiler {
 public:
  virtual ~RegexCompiler() = default;
  // Compiles `pattern`; on failure returns the engine's own message (e.g. "missing ): (a").
  virtual Result<std::unique_ptr<const Regex>, std::string> compile(
      std::string_view pattern) const = 0;
};

}  // namespace vx::core
