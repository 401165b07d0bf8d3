// Formatting of configuration diagnostics.
#include "core/config/diagnostic.h"

namespace vx::core::config {

std::string Diagnostic::to_string() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ": " + message;
}

}  // namespace vx::core::config
