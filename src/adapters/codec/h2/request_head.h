// The request head of an HTTP/2 or HTTP/3 stream, both carried as pseudo-headers and fields in
// a HeaderBlock once nghttp2 or nghttp3 checked their presence, order and bytes: the checks
// those libraries leave to the application (RFC 9113 §8.3.1, RFC 9114 §4.3.1), and the
// version-neutral RequestHead the pipeline reads. Pure functions.
#pragma once

#include <optional>
#include <string>

#include "adapters/codec/h2/header_block.h"
#include "core/http/error.h"
#include "core/http/message_head.h"

namespace vx::adapters::h2 {

// Why the head is malformed, or nullopt: over the header limits (431), an invalid :authority,
// a Host that is repeated, invalid or not :authority's, a bad :scheme or :path. A CONNECT gets
// `connect_refusal` when given (the protocol decides which CONNECTs it serves).
std::optional<core::http::Error> check_request_head(
    const HeaderBlock& block, const std::optional<core::http::Error>& connect_refusal);

// `out` from a head check_request_head() accepted; its views point into `block` and `cookie`.
// Cookie crumbs become one field (RFC 9113 §8.2.3, RFC 9114 §4.2.1) kept in `cookie`; Host is
// added from :authority for HTTP/1.1 upstreams; framing: none when `end_stream`, else
// Content-Length or a body of unknown length (Chunked).
void read_request_head(const HeaderBlock& block, bool end_stream, std::string& cookie,
                       core::http::RequestHead& out);

}  // namespace vx::adapters::h2
