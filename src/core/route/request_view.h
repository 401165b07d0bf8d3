// What the route table looks at in a request: borrowed views into the codec's buffers, valid
// for the duration of one match() call. Built per request on the worker's stack; no ownership.
#pragma once

#include <optional>
#include <string_view>

namespace vx::core::route {

// Header access for matching without copying the header block. Implemented by each codec's
// request head (h1, h2, h3); called only during match(), on the worker's thread.
class HeaderLookup {
 public:
  virtual ~HeaderLookup() = default;
  // The value of the first header named `lower_name` (given in lower case; the implementation
  // compares case-insensitively), or nullopt when absent.
  virtual std::optional<std::string_view> get(std::string_view lower_name) const = 0;
};

struct RequestView {
  std::string_view method;                // as received, case-sensitive (RFC 9110 §9.1)
  std::string_view host;                  // Host header or :authority; may carry ":port"; any case
  std::string_view path;                  // request target in origin form; may carry "?query"
  const HeaderLookup* headers = nullptr;  // null = the request has no headers to offer
  std::string_view ai_model;              // model named by the request; empty = none
};

}  // namespace vx::core::route
