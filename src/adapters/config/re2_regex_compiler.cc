// RE2 behind the core Regex port.
#include "adapters/config/re2_regex_compiler.h"

#include <re2/re2.h>

namespace vx::adapters::config {
namespace {

RE2::Options quiet_options() {
  RE2::Options options;
  options.set_log_errors(false);  // the error is returned as a diagnostic, not printed
  return options;
}

class Re2Regex final : public core::Regex {
 public:
  explicit Re2Regex(std::string_view pattern) : re_(re2::StringPiece(pattern), quiet_options()) {}
  const RE2& re() const { return re_; }

  // core::Regex. RE2 matching is const and thread-safe; without captures it does not allocate
  // once the DFA cache is warm.
  bool full_match(std::string_view text) const override {
    return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), re_);
  }

 private:
  RE2 re_;
};

}  // namespace

core::Result<std::unique_ptr<const core::Regex>, std::string> Re2RegexCompiler::compile(
    std::string_view pattern) const {
  auto regex = std::make_unique<Re2Regex>(pattern);
  if (!regex->re().ok()) return core::unexpected(regex->re().error());
  return std::unique_ptr<const core::Regex>(std::move(regex));
}

}  // namespace vx::adapters::config
