#include "core/http/hop_by_hop.h"

#include <array>

namespace vx::core::http {

namespace {

bool always_hop_by_hop(const Header& h, bool keep_upgrade) {
  const std::string_view n = h.name;
  if (iequals(n, "connection") || iequals(n, "keep-alive") || iequals(n, "proxy-connection") ||
      iequals(n, "transfer-encoding")) {
    return true;
  }
  if (iequals(n, "te")) return !iequals(h.value, "trailers");
  if (iequals(n, "upgrade")) return !keep_upgrade;
  return false;
}

}  // namespace

void remove_hop_by_hop(HeaderList& headers, bool keep_upgrade) {
  // The Connection values, read before compaction overwrites any of them. Tokens of Connection
  // fields past the eighth are not honoured: a request with that many is hostile anyway.
  std::array<std::string_view, 8> connection_lists;
  size_t lists = 0;
  for (const auto& h : headers) {
    if (!iequals(h.name, "connection")) continue;
    if (lists < connection_lists.size()) connection_lists[lists++] = h.value;
  }
  size_t out = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    const Header h = headers[i];
    bool drop = always_hop_by_hop(h, keep_upgrade);
    if (!drop && !(keep_upgrade && iequals(h.name, "upgrade"))) {
      for (size_t l = 0; l < lists && !drop; ++l) drop = list_contains(connection_lists[l], h.name);
    }
    if (!drop) headers[out++] = h;
  }
  headers.resize(out);
}

}  // namespace vx::core::http
