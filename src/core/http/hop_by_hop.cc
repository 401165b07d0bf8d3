#include "core/http/hop_by_hop.h"

#include <array>

namespace vx::core::http {

namespace {

// The fields that are hop-by-hop whatever Connection says; switched on length first because
// this runs on every request and response head.
bool always_hop_by_hop(const Header& h, bool keep_upgrade) {
  const std::string_view n = h.name;
  switch (n.size()) {
    case 2:
      return iequals(n, "te") && !iequals(h.value, "trailers");
    case 7:
      return !keep_upgrade && iequals(n, "upgrade");
    case 10:
      return iequals(n, "connection") || iequals(n, "keep-alive");
    case 14:  // RFC 9113 §3.2.1: connection-specific, listed in Connection or not
      return iequals(n, "http2-settings");
    case 16:
      return iequals(n, "proxy-connection");
    case 17:
      return iequals(n, "transfer-encoding");
    default:
      return false;
  }
}

// The field names Connection lists, beyond those dropped anyway ("keep-alive", and "close",
// which names no field): most heads name nothing else, and then no field is compared.
struct ConnectionTokens {
  // Tokens past the sixteenth are not honoured: a head with that many is hostile anyway.
  std::array<std::string_view, 16> names;
  size_t count = 0;

  void add_from(std::string_view list) {
    for_each_token(list, [&](std::string_view token) {
      if (iequals(token, "close") || iequals(token, "keep-alive")) return;
      if (count < names.size()) names[count++] = token;
    });
  }
  bool contains(std::string_view name) const {
    for (size_t i = 0; i < count; ++i) {
      if (iequals(names[i], name)) return true;
    }
    return false;
  }
};

}  // namespace

void remove_hop_by_hop(HeaderList& headers, bool keep_upgrade) {
  // Read before compaction overwrites any Connection field.
  ConnectionTokens listed;
  for (const auto& h : headers) {
    if (h.name.size() == 10 && iequals(h.name, "connection")) listed.add_from(h.value);
  }
  size_t out = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    const Header h = headers[i];
    bool drop = always_hop_by_hop(h, keep_upgrade);
    if (!drop && listed.count > 0 && !(keep_upgrade && iequals(h.name, "upgrade"))) {
      drop = listed.contains(h.name);
    }
    if (!drop) headers[out++] = h;
  }
  headers.resize(out);
}

}  // namespace vx::core::http
