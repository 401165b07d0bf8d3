// Writes HTTP/1.1 heads and chunk framing into a caller-owned buffer (appending; the caller
// reuses the buffer's capacity). The framing fields are written from the head's `framing`;
// Content-Length and Transfer-Encoding in the header list are never copied.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/http/message_head.h"

namespace vx::adapters::h1 {

// Request line + fields + framing + blank line. `connection` is the Connection field value to
// send ("" = none: HTTP/1.1 keep-alive is the default).
void append_request_head(std::string& out, const core::http::RequestHead& head,
                         std::string_view connection);

// Status line + fields + framing + blank line. `framing` is how the body goes out on this
// connection (it may differ from head.framing, how it arrived); `connection` is the Connection
// field to send ("" = none, else "close" or "keep-alive").
void append_response_head(std::string& out, const core::http::ResponseHead& head,
                          core::http::BodyFraming framing, std::string_view connection);

// "HEX\r\n" for a chunk of `size` bytes into buf (at least 20 bytes); returns its length.
size_t chunk_header(char* buf, size_t size);

inline constexpr std::string_view kCrlf = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The last chunk with trailers: "0\r\n" fields "\r\n".
void append_last_chunk(std::string& out, const core::http::HeaderList& trailers);

// True for fields the codec regenerates from the framing (never copied through).
bool is_framing_field(std::string_view name);

}  // namespace vx::adapters::h1
