// H1Parser in Response mode, driven the way BasicH1UpstreamConnection drives it (adapters/
// upstream/h1_upstream_connection.cc): reset(request_was_head) before each exchange, the head
// over a growing buffer, a 1xx head followed by the next head of the same exchange, then the
// body until the message ends or the upstream closes (finish()). The input is everything an
// upstream sends on one connection; each exchange's request is a HEAD or not by the input's
// hash.
//
// As in h1_request_fuzz.cc, the input runs whole and in pieces, and both runs must agree.
#include <array>
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
using vx::core::http::ResponseHead;
using vx::fuzz::carries_no_line_break;
using vx::fuzz::Choices;
using vx::fuzz::inside;
using vx::fuzz::Wire;

constexpr int kMaxExchanges = 8;
constexpr int kMaxInterim = 8;  // 1xx heads before one final head

// h1_upstream_connection.cc's kResponseLimits and health_probe.cc's kProbeLimits.
constexpr ParseLimits kUpstreamLimits{.max_header_bytes = 64 * 1024, .max_headers = 200};
constexpr ParseLimits kProbeLimits{.max_header_bytes = 16 * 1024, .max_headers = 100};

void check_error(const vx::core::http::Error& e) {
  // An upstream's bytes never become the client's fault (a 400 instead of a 502).
  VX_FUZZ_CHECK(e.source() == vx::core::http::ErrorSource::Upstream);
  VX_FUZZ_CHECK(!e.detail.empty());
}

void check_head(const ResponseHead& head, std::string_view head_bytes, const ParseLimits& limits,
                bool request_was_head) {
  VX_FUZZ_CHECK(head.status <= 999);
  VX_FUZZ_CHECK(inside(head.reason, head_bytes));
  VX_FUZZ_CHECK(head.headers.size() <= limits.max_headers);
  VX_FUZZ_CHECK(head_bytes.size() <= limits.max_header_bytes);
  for (const auto& h : head.headers) {
    VX_FUZZ_CHECK(inside(h.name, head_bytes) && inside(h.value, head_bytes));
    VX_FUZZ_CHECK(vx::core::http::is_token(h.name));
    VX_FUZZ_CHECK(carries_no_line_break(h.value));
  }
  // RFC 9112 §6.3 rules 1 and 2: these never have a body, whatever their fields say.
  if (request_was_head || head.status < 200 || head.status == 204 || head.status == 304) {
    VX_FUZZ_CHECK(head.framing == BodyFraming::None);
  }
  if (head.framing == BodyFraming::UntilClose) VX_FUZZ_CHECK(!head.keep_alive);
}

void append_head(std::string& out, const ResponseHead& head, size_t consumed) {
  out += "head " + std::to_string(consumed) + " " + std::to_string(head.status) + " " +
         std::string(head.reason) + " 1." + std::to_string(head.version_minor) + " f" +
         std::to_string(static_cast<int>(head.framing)) + " l" +
         std::to_string(head.content_length) + (head.keep_alive ? " ka" : "") + "\n";
  for (const auto& h : head.headers) {
    out.append(h.name).append(": ").append(h.value).append("\n");
  }
}

std::string run(std::string_view bytes, const ParseLimits& limits,
                const std::array<bool, kMaxExchanges>& head_requests, Choices* split) {
  std::string transcript;
  Wire wire(bytes, split);
  H1Parser parser(H1Parser::Mode::Response, limits);
  ResponseHead head;
  std::string buffer;  // received, not yet consumed
  for (int exchange = 0; exchange < kMaxExchanges; ++exchange) {
    const bool request_was_head = head_requests[exchange];
    transcript += request_was_head ? "HEAD\n" : "GET\n";
    for (int interim = 0;; ++interim) {
      parser.reset(request_was_head);
      head.clear();
      HeadResult r;
      for (;;) {
        r = parser.parse_head(buffer);
        VX_FUZZ_CHECK(r.consumed <= buffer.size());
        VX_FUZZ_CHECK(parser.body_pieces().empty());  // no body before its head is done
        if (r.status != ParseStatus::NeedMore) break;
        VX_FUZZ_CHECK(r.consumed == 0);
        if (!wire.read_into(buffer)) return transcript + "closed in head\n";
      }
      if (r.status == ParseStatus::Error) {
        check_error(r.error);
        return transcript + "head error\n";
      }
      VX_FUZZ_CHECK(r.consumed > 0);
      parser.response_head(buffer, head);
      check_head(head, std::string_view(buffer).substr(0, r.consumed), limits, request_was_head);
      append_head(transcript, head, r.consumed);
      buffer.erase(0, r.consumed);
      // 101 hands the connection over to a tunnel; other 1xx heads precede the final one.
      if (head.status == 101) return transcript + "tunnel\n";
      if (head.status >= 200) break;
      if (interim == kMaxInterim) return transcript + "too many interim heads\n";
    }

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
      buffer.erase(0, b.consumed);
      if (b.status == ParseStatus::Done) break;
      VX_FUZZ_CHECK(buffer.empty());
      if (!wire.read_into(buffer)) {
        const BodyResult end = parser.finish();
        if (end.status == ParseStatus::Error) {
          check_error(end.error);
          return transcript + "closed in body\n";
        }
        // Only a close-delimited body may end by the upstream closing.
        VX_FUZZ_CHECK(end.status == ParseStatus::Done);
        VX_FUZZ_CHECK(head.framing == BodyFraming::UntilClose);
        return transcript + "body until close " + body + "\n";
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
    // The upstream connection is reused only after a clean end; later bytes would belong to
    // the next exchange's response (what a pipelining or confused upstream sends).
    if (!head.keep_alive) return transcript + "not reusable\n";
  }
  return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Choices choices(bytes);
  const ParseLimits& limits = choices.one_in(4) ? kProbeLimits : kUpstreamLimits;
  std::array<bool, kMaxExchanges> head_requests{};
  for (bool& h : head_requests) h = choices.one_in(4);
  const std::string whole = run(bytes, limits, head_requests, nullptr);
  const std::string split = run(bytes, limits, head_requests, &choices);
  VX_FUZZ_CHECK(whole == split);
  return 0;
}
