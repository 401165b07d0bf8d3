// H1Parser in Request mode, driven the way BasicH1Connection drives it (adapters/net/
// h1_connection.cc): the head parsed over a buffer that grows and moves, request_head(), then
// parse_body() over what follows, pipelined messages one after another, finish() when the
// client's bytes end. The input is everything a client sends on one connection.
//
// Each input runs twice, whole and in pieces of sizes drawn from its hash (each piece lands in
// a freshly allocated buffer, so a view kept across calls is caught by ASan), and the two runs
// must agree message by message: a split must never change what a request means.
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/codec/h1/h1_parser.h"
#include "core/http/token.h"
#include "fuzz_support.h"

namespace {

using vx::adapters::h1::BodyResult;
using vx::adapters::h1::H1Parser;
using vx::adapters::h1::HeadResult;
using vx::adapters::h1::ParseLimits;
using vx::adapters::h1::ParseStatus;
using vx::core::http::BodyFraming;
using vx::core::http::iequals;
using vx::core::http::RequestHead;
using vx::fuzz::carries_no_line_break;
using vx::fuzz::Choices;
using vx::fuzz::inside;
using vx::fuzz::Wire;

// More messages add nothing a pipelined second one does not already reach.
constexpr int kMaxMessages = 16;

// SPEC.md §2's defaults, and a tight configuration whose limits short inputs can reach.
constexpr ParseLimits kSpecDefaults{};
constexpr ParseLimits kTight{
    .max_header_bytes = 512, .max_headers = 8, .max_uri_bytes = 64, .max_body_bytes = 100};

void check_error(const vx::core::http::Error& e) {
  VX_FUZZ_CHECK(e.source() == vx::core::http::ErrorSource::Downstream);
  VX_FUZZ_CHECK(!e.detail.empty());
}

size_t count_fields(const RequestHead& head, std::string_view name) {
  size_t n = 0;
  for (const auto& h : head.headers) n += iequals(h.name, name) ? 1 : 0;
  return n;
}

// What a Done head must satisfy: every view inside the head's bytes, the limits kept, and the
// smuggling defences of SPEC.md §3 held (one framing, one Host, CRLF only).
void check_head(const RequestHead& head, std::string_view head_bytes, const ParseLimits& limits) {
  VX_FUZZ_CHECK(vx::core::http::is_token(head.method));
  VX_FUZZ_CHECK(inside(head.target, head_bytes) || head.target == "/");
  VX_FUZZ_CHECK(!head.target.empty() && (head.target.front() == '/' || head.target == "*"));
  VX_FUZZ_CHECK(inside(head.authority, head_bytes));
  VX_FUZZ_CHECK(head.headers.size() <= limits.max_headers);
  VX_FUZZ_CHECK(head_bytes.size() <= limits.max_header_bytes);
  for (const auto& h : head.headers) {
    VX_FUZZ_CHECK(inside(h.name, head_bytes) && inside(h.value, head_bytes));
    VX_FUZZ_CHECK(vx::core::http::is_token(h.name));
    VX_FUZZ_CHECK(carries_no_line_break(h.value));
  }
  VX_FUZZ_CHECK(head.version_minor <= 1);
  VX_FUZZ_CHECK(count_fields(head, "host") <= 1);
  VX_FUZZ_CHECK(head.version_minor == 0 || count_fields(head, "host") == 1);
  for (size_t i = head_bytes.find('\n'); i != std::string_view::npos;
       i = head_bytes.find('\n', i + 1)) {
    VX_FUZZ_CHECK(i > 0 && head_bytes[i - 1] == '\r');
  }
  const size_t lengths = count_fields(head, "content-length");
  const size_t codings = count_fields(head, "transfer-encoding");
  switch (head.framing) {
    case BodyFraming::Chunked:
      VX_FUZZ_CHECK(lengths == 0);
      break;
    case BodyFraming::ContentLength:
      VX_FUZZ_CHECK(lengths == 1 && codings == 0 && head.content_length > 0);
      VX_FUZZ_CHECK(limits.max_body_bytes == 0 || head.content_length <= limits.max_body_bytes);
      break;
    case BodyFraming::None:
      VX_FUZZ_CHECK(codings == 0 && head.content_length == 0);
      break;
    case BodyFraming::UntilClose:
      VX_FUZZ_CHECK(false);  // a request body is never delimited by the close
  }
}

void append_head(std::string& out, const RequestHead& head, size_t consumed) {
  out += "head " + std::to_string(consumed) + " " + std::string(head.method) + " " +
         std::string(head.target) + " @" + std::string(head.authority) + " 1." +
         std::to_string(head.version_minor) + " f" +
         std::to_string(static_cast<int>(head.framing)) + " l" +
         std::to_string(head.content_length) + (head.upgrade ? " up" : "") +
         (head.expect_continue ? " 100" : "") + "\n";
  for (const auto& h : head.headers) {
    out.append(h.name).append(": ").append(h.value).append("\n");
  }
}

// One connection's worth of parsing; returns what it saw, for the whole/split comparison.
std::string run(std::string_view bytes, const ParseLimits& limits, Choices* split) {
  std::string transcript;
  Wire wire(bytes, split);
  H1Parser parser(H1Parser::Mode::Request, limits);
  RequestHead head;
  std::string buffer;  // received, not yet consumed
  for (int message = 0; message < kMaxMessages; ++message) {
    parser.reset();
    head.clear();
    HeadResult r;
    for (;;) {
      r = parser.parse_head(buffer);
      VX_FUZZ_CHECK(r.consumed <= buffer.size());
      VX_FUZZ_CHECK(parser.body_pieces().empty());  // no body before its head is done
      if (r.status != ParseStatus::NeedMore) break;
      VX_FUZZ_CHECK(r.consumed == 0);
      if (!wire.read_into(buffer)) {
        transcript += buffer.empty() ? "closed idle\n" : "closed in head\n";
        return transcript;
      }
    }
    if (r.status == ParseStatus::Error) {
      check_error(r.error);
      VX_FUZZ_CHECK(r.consumed == 0);
      return transcript + "head error\n";
    }
    VX_FUZZ_CHECK(r.consumed > 0);
    parser.request_head(buffer, head);
    check_head(head, std::string_view(buffer).substr(0, r.consumed), limits);
    append_head(transcript, head, r.consumed);
    buffer.erase(0, r.consumed);  // the head's views die here, as the connection's do

    std::string body;
    uint64_t body_bytes = 0;
    for (;;) {
      const BodyResult b = parser.parse_body(buffer);
      VX_FUZZ_CHECK(b.consumed <= buffer.size());
      if (b.status == ParseStatus::Error) {
        check_error(b.error);
        return transcript + "body error\n";
      }
      for (std::string_view piece : parser.body_pieces()) {
        VX_FUZZ_CHECK(inside(piece, std::string_view(buffer).substr(0, b.consumed)));
        body.append(piece);
        body_bytes += piece.size();
      }
      VX_FUZZ_CHECK(limits.max_body_bytes == 0 || body_bytes <= limits.max_body_bytes);
      buffer.erase(0, b.consumed);
      if (b.status == ParseStatus::Done) break;
      VX_FUZZ_CHECK(buffer.empty());  // NeedMore takes every byte it was given
      if (!wire.read_into(buffer)) {
        const BodyResult end = parser.finish();
        VX_FUZZ_CHECK(end.status == ParseStatus::Error);  // a request never ends by closing
        check_error(end.error);
        return transcript + "closed in body after " + std::to_string(body_bytes) + "\n";
      }
    }
    if (head.framing == BodyFraming::ContentLength)
      VX_FUZZ_CHECK(body_bytes == head.content_length);
    if (head.framing == BodyFraming::None) VX_FUZZ_CHECK(body_bytes == 0);
    if (head.framing != BodyFraming::Chunked) VX_FUZZ_CHECK(parser.trailers().empty());
    transcript += "body " + body + "\n";
    size_t trailer_bytes = 0;  // max_header_bytes bounds the trailer section too
    for (const auto& t : parser.trailers()) trailer_bytes += t.name.size() + t.value.size();
    VX_FUZZ_CHECK(trailer_bytes <= limits.max_header_bytes);
    for (const auto& t : parser.trailers()) {
      VX_FUZZ_CHECK(vx::core::http::is_token(t.name));
      VX_FUZZ_CHECK(carries_no_line_break(t.value));
      transcript.append("trailer ").append(t.name).append(": ").append(t.value).append("\n");
    }
  }
  return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Choices choices(bytes);
  const ParseLimits& limits = choices.one_in(2) ? kSpecDefaults : kTight;
  const std::string whole = run(bytes, limits, nullptr);
  const std::string split = run(bytes, limits, &choices);
  VX_FUZZ_CHECK(whole == split);
  return 0;
}
