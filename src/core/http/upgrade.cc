#include "core/http/upgrade.h"

#include "core/http/header.h"

namespace vx::core::http {

bool upgrade_answer_matches(std::string_view requested, std::optional<std::string_view> answered) {
  if (!answered) return false;
  size_t protocols = 0;
  bool asked = true;
  for_each_token(*answered, [&](std::string_view protocol) {
    ++protocols;
    asked = asked && list_contains(requested, protocol);
  });
  return protocols == 1 && asked;
}

}  // namespace vx::core::http
