// One configuration error with the place it was found, as `vortex check` prints it.
// Plain value type.
#pragma once

#include <string>

namespace vx::core::config {

struct Diagnostic {
  std::string file;
  int line = 0;  // 1-based; 0 = the file as a whole (unreadable, empty)
  std::string message;

  // "FILE:LINE: message", or "FILE: message" when line is 0.
  std::string to_string() const;

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

}  // namespace vx::core::config
