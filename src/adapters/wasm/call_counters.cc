#include "adapters/wasm/call_counters.h"

namespace vx::adapters::wasm {

std::string_view to_string(CallResult result) {
  switch (result) {
    case CallResult::Continue:
      return "continue";
    case CallResult::Deny:
      return "deny";
    case CallResult::Trap:
      return "trap";
    case CallResult::Timeout:
      return "timeout";
  }
  return "?";
}

}  // namespace vx::adapters::wasm
