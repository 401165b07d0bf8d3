// A RegexCompiler over std::regex (ECMAScript), for core tests that must not link RE2.
// Honest but slow; test use only.
#pragma once

#include <regex>

#include "core/ports/regex.h"

namespace vx::testing {

class StdRegexCompiler final : public core::RegexCompiler {
 public:
  core::Result<std::unique_ptr<const core::Regex>, std::string> compile(
      std::string_view pattern) const override {
    try {
      return std::unique_ptr<const core::Regex>(new StdRegex(std::regex(std::string(pattern))));
    } catch (const std::regex_error& e) {
      return core::unexpected(std::string(e.what()));
    }
  }

 private:
  class StdRegex final : public core::Regex {
   public:
    explicit StdRegex(std::regex re) : re_(std::move(re)) {}
    bool full_match(std::string_view text) const override {
      return std::regex_match(text.begin(), text.end(), re_);
    }

   private:
    std::regex re_;
  };
};

}  // namespace vx::testing
