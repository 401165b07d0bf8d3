// Sans-I/O HTTP/1.1 message parser over llhttp, for requests (downstream) and responses
// (upstream). One per connection direction, reused message after message; not thread-safe.
//
// A message is parsed in two phases:
//  1. Head: parse_head(buffer) is called with everything received since the head started (the
//     same prefix every time, possibly longer, possibly moved in memory). It returns NeedMore,
//     Done{consumed} or Error{kind, detail}. Field positions are kept as offsets, so the buffer
//     may grow between calls; request_head()/response_head() turn them into views of the buffer
//     passed to the last call, valid while those bytes stay in place.
//  2. Body: parse_body(bytes) consumes body bytes and yields the decoded body pieces as views of
//     `bytes` (valid while those bytes stay in place); it stops right after the message's last
//     byte, so pipelined bytes stay unconsumed for the next message. finish() tells it the peer
//     closed (ends a close-delimited response, or is an error).
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/error.h"
#include "core/http/message_head.h"

namespace vx::adapters::h1 {

struct ParseLimits {
  uint64_t max_header_bytes = 65536;
  uint32_t max_headers = 100;
  uint64_t max_uri_bytes = 8192;
  uint64_t max_body_bytes = 0;  // 0 = unlimited
};

enum class ParseStatus : uint8_t { NeedMore, Done, Error };

struct HeadResult {
  ParseStatus status = ParseStatus::NeedMore;
  size_t consumed = 0;  // Done: bytes of the head, including the final CRLF
  core::http::Error error;
};

struct BodyResult {
  ParseStatus status = ParseStatus::NeedMore;  // Done = the message ended
  size_t consumed = 0;
  core::http::Error error;
};

class H1Parser {
 public:
  enum class Mode : uint8_t { Request, Response };

  H1Parser(Mode mode, ParseLimits limits);
  H1Parser(const H1Parser&) = delete;
  H1Parser& operator=(const H1Parser&) = delete;

  // Prepares for the next message on the same connection (pipelined or keep-alive).
  // response_to_head: the request this response answers was a HEAD (RFC 9112 §6.3 rule 1).
  void reset(bool response_to_head = false);

  HeadResult parse_head(std::string_view buffer);
  // REQUIRES: parse_head returned Done; `buffer` is the buffer given to that call (or a copy of
  // it at the same offsets). Fills every field of the head with views of `buffer`.
  void request_head(std::string_view buffer, core::http::RequestHead& head) const;
  void response_head(std::string_view buffer, core::http::ResponseHead& head) const;

  BodyResult parse_body(std::string_view bytes);
  BodyResult finish();
  // The body pieces found by the last parse_body call (cleared by each call).
  const std::vector<std::string_view>& body_pieces() const { return body_pieces_; }
  // Trailer fields of a chunked message, owned by the parser; valid until reset().
  const core::http::HeaderList& trailers() const { return trailers_; }

 private:
  struct Span {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  struct FieldSpan {
    Span name;
    Span value;
  };

  static int on_url(llhttp_t* p, const char* at, size_t n);
  static int on_status(llhttp_t* p, const char* at, size_t n);
  static int on_header_field(llhttp_t* p, const char* at, size_t n);
  static int on_header_value(llhttp_t* p, const char* at, size_t n);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t n);
  static int on_message_complete(llhttp_t* p);
  static H1Parser& self(llhttp_t* p) { return *static_cast<H1Parser*>(p->data); }

  void extend(Span& span, const char* at, size_t n);
  core::http::Error check_request_head(std::string_view buffer) const;
  core::http::Error check_response_head(std::string_view buffer) const;
  core::http::Error llhttp_error(llhttp_errno_t err) const;
  bool chunk_data_ends_well(const char* after);
  // Builds trailers_; false when a trailer's name is not a token.
  bool finish_trailers();

  Mode mode_;
  ParseLimits limits_;
  llhttp_settings_t settings_;
  llhttp_t parser_;

  // head phase
  const char* base_ = nullptr;  // start of the buffer of the current parse_head call
  size_t parsed_ = 0;           // bytes of the head already fed to llhttp
  bool in_body_ = false;
  bool head_done_ = false;
  bool too_many_headers_ = false;
  bool response_to_head_ = false;
  Span url_;
  Span status_text_;
  std::vector<FieldSpan> fields_;
  bool field_open_ = false;  // the last callback was a field name not yet followed by a value

  // body phase
  uint64_t body_bytes_ = 0;
  bool message_done_ = false;
  const char* end_ = nullptr;   // end of the bytes of the current parse_body call
  uint8_t crlf_unchecked_ = 0;  // bytes of the CRLF after a chunk's data still to check
  std::vector<std::string_view> body_pieces_;
  std::string trailer_bytes_;  // name\0value\0... appended while trailers arrive
  std::vector<std::pair<size_t, size_t>> trailer_marks_;  // (name start, value start)
  bool trailer_name_open_ = false;
  core::http::HeaderList trailers_;
};

}  // namespace vx::adapters::h1
