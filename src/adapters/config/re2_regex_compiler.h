// RegexCompiler backed by RE2 (linear-time, no backtracking: safe on untrusted paths).
// Stateless; compile() and the compiled regexes are safe from any thread.
#pragma once

#include "core/ports/regex.h"

namespace vx::adapters::config {

class Re2RegexCompiler final : public core::RegexCompiler {
 public:
  // core::RegexCompiler
  core::Result<std::unique_ptr<const core::Regex>, std::string> compile(
      std::string_view pattern) const override;
};

}  // namespace vx::adapters::config
