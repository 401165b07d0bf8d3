#include "adapters/codec/h1/h1_serializer.h"

#include <charconv>
#include <cstring>

#include "core/http/error.h"

namespace vx::adapters::h1 {

using core::http::BodyFraming;
using namespace std::string_view_literals;

namespace {

void append_number(std::string& out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

// Sized first and copied into place: four appends per field, each checking capacity, cost more
// than the rest of the head.
void append_fields(std::string& out, const core::http::HeaderList& headers) {
  size_t bytes = 0;
  for (const auto& h : headers) bytes += h.name.size() + h.value.size() + 4;
  size_t at = out.size();
  out.resize(at + bytes);
  char* p = out.data();
  for (const auto& h : headers) {
    if (is_framing_field(h.name)) continue;
    std::memcpy(p + at, h.name.data(), h.name.size());
    at += h.name.size();
    std::memcpy(p + at, ": ", 2);
    at += 2;
    std::memcpy(p + at, h.value.data(), h.value.size());
    at += h.value.size();
    std::memcpy(p + at, "\r\n", 2);
    at += 2;
  }
  out.resize(at);  // framing fields skipped
}

void append_framing(std::string& out, BodyFraming framing, uint64_t content_length) {
  if (framing == BodyFraming::Chunked) {
    out.append("transfer-encoding: chunked\r\n"sv);
  } else if (framing == BodyFraming::ContentLength) {
    out.append("content-length: "sv);
    append_number(out, content_length);
    out.append(kCrlf);
  }
}

}  // namespace

bool is_framing_field(std::string_view name) {
  return core::http::iequals(name, "content-length") ||
         core::http::iequals(name, "transfer-encoding");
}

void append_request_head(std::string& out, const core::http::RequestHead& head,
                         std::string_view connection) {
  out.append(head.method);
  out.push_back(' ');
  out.append(head.target);
  out.append(" HTTP/1.1\r\n"sv);
  append_fields(out, head.headers);
  append_framing(out, head.framing, head.content_length);
  if (!connection.empty()) {
    out.append("connection: "sv);
    out.append(connection);
    out.append(kCrlf);
  }
  out.append(kCrlf);
}

void append_response_head(std::string& out, const core::http::ResponseHead& head,
                          BodyFraming framing, std::string_view connection) {
  out.append("HTTP/1.1 "sv);
  append_number(out, head.status);
  out.push_back(' ');
  out.append(head.reason.empty() ? core::http::reason_phrase(head.status) : head.reason);
  out.append(kCrlf);
  append_fields(out, head.headers);
  // A 1xx, 204 or 304 carries no framing; a HEAD answer keeps the length it would have had.
  if (head.status >= 200 && head.status != 204 && head.status != 304) {
    if (framing == BodyFraming::None) {
      out.append("content-length: "sv);
      append_number(out, head.content_length);
      out.append(kCrlf);
    } else {
      append_framing(out, framing, head.content_length);
    }
  }
  if (!connection.empty()) {
    out.append("connection: "sv);
    out.append(connection);
    out.append(kCrlf);
  }
  out.append(kCrlf);
}

size_t chunk_header(char* buf, size_t size) {
  auto [end, ec] = std::to_chars(buf, buf + 16, size, 16);
  end[0] = '\r';
  end[1] = '\n';
  return static_cast<size_t>(end + 2 - buf);
}

void append_last_chunk(std::string& out, const core::http::HeaderList& trailers) {
  out.append("0\r\n"sv);
  append_fields(out, trailers);
  out.append(kCrlf);
}

}  // namespace vx::adapters::h1
