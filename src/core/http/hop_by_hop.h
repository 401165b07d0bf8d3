// Hop-by-hop field removal (RFC 9110 §7.6.1), for requests and responses alike. Pure.
#pragma once

#include "core/http/header.h"

namespace vx::core::http {

// Removes Connection and every field it names, Keep-Alive, Proxy-Connection, HTTP2-Settings, TE
// (kept when its only value is "trailers"), Transfer-Encoding, and Upgrade unless keep_upgrade
// (a tunnel being set up). Order of the remaining fields is preserved; nothing is allocated.
void remove_hop_by_hop(HeaderList& headers, bool keep_upgrade);

}  // namespace vx::core::http
