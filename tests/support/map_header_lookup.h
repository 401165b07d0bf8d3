// HeaderLookup over a list of (name, value) pairs, names compared case-insensitively as a
// codec's would be. Test use only.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/route/request_view.h"

namespace vx::testing {

class MapHeaderLookup final : public core::route::HeaderLookup {
 public:
  MapHeaderLookup(std::initializer_list<std::pair<std::string, std::string>> headers)
      : headers_(headers) {}

  std::optional<std::string_view> get(std::string_view lower_name) const override {
    for (const auto& [name, value] : headers_) {
      if (name.size() != lower_name.size()) continue;
      bool same = true;
      for (size_t i = 0; i < name.size() && same; ++i) {
        same =
            static_cast<char>(std::tolower(static_cast<unsigned char>(name[i]))) == lower_name[i];
      }
      if (same) return std::string_view(value);
    }
    return std::nullopt;
  }

 private:
  std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace vx::testing
