#include "adapters/codec/h1/h1_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace vx::adapters::h1 {
namespace {

using core::http::BodyFraming;
using core::http::ErrorKind;

// Feeds `bytes` split into pieces of `step` bytes, as a socket might deliver them.
HeadResult feed_head(H1Parser& parser, std::string& buffer, std::string_view bytes, size_t step) {
  HeadResult r;
  for (size_t at = 0; at < bytes.size(); at += step) {
    buffer.append(bytes.substr(at, step));
    r = parser.parse_head(buffer);
    if (r.status != ParseStatus::NeedMore) return r;
  }
  return r;
}

TEST(H1ParserTest, ParsesHeadAsViewsIntoTheBufferWhateverTheSplit) {
  const std::string wire =
      "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  v1 \r\nAccept: */*\r\n\r\n";
  for (size_t step : {1u, 3u, 7u, 1000u}) {
    H1Parser parser(H1Parser::Mode::Request, {});
    std::string buffer;
    HeadResult r = feed_head(parser, buffer, wire, step);
    ASSERT_EQ(r.status, ParseStatus::Done) << "step " << step;
    EXPECT_EQ(r.consumed, wire.size());
    core::http::RequestHead head;
    parser.request_head(buffer, head);
    EXPECT_EQ(head.method, "GET");
    EXPECT_EQ(head.target, "/a/b?x=1");
    EXPECT_EQ(head.path(), "/a/b");
    EXPECT_EQ(head.authority, "example.com");
    ASSERT_EQ(head.headers.size(), 3u);
    EXPECT_EQ(head.headers[1].name, "X-Thing");
    EXPECT_EQ(head.headers[1].value, "v1");
    EXPECT_EQ(head.framing, BodyFraming::None);
  }
}

TEST(H1ParserTest, StopsAtTheEndOfAMessageSoPipelinedBytesStay) {
  H1Parser parser(H1Parser::Mode::Request, {});
  const std::string wire =
      "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: "
      "h\r\n\r\n";
  HeadResult head = parser.parse_head(wire);
  ASSERT_EQ(head.status, ParseStatus::Done);
  core::http::RequestHead request;
  parser.request_head(wire, request);
  EXPECT_EQ(request.framing, BodyFraming::ContentLength);
  EXPECT_EQ(request.content_length, 3u);
  BodyResult body = parser.parse_body(std::string_view(wire).substr(head.consumed));
  ASSERT_EQ(body.status, ParseStatus::Done);
  EXPECT_EQ(body.consumed, 3u);
  ASSERT_EQ(parser.body_pieces().size(), 1u);
  EXPECT_EQ(parser.body_pieces()[0], "abc");

  parser.reset();
  const std::string_view rest = std::string_view(wire).substr(head.consumed + 3);
  HeadResult next = parser.parse_head(rest);
  ASSERT_EQ(next.status, ParseStatus::Done);
  parser.request_head(rest, request);
  EXPECT_EQ(request.target, "/b");
}

TEST(H1ParserTest, DecodesChunkedBodyAndTrailers) {
  H1Parser parser(H1Parser::Mode::Request, {});
  const std::string head_bytes = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_EQ(parser.parse_head(head_bytes).status, ParseStatus::Done);
  core::http::RequestHead request;
  parser.request_head(head_bytes, request);
  EXPECT_EQ(request.framing, BodyFraming::Chunked);
  const std::string body = "3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n";
  BodyResult r = parser.parse_body(body);
  ASSERT_EQ(r.status, ParseStatus::Done);
  std::string joined;
  for (auto piece : parser.body_pieces()) joined += piece;
  EXPECT_EQ(joined, "abcde");
  ASSERT_EQ(parser.trailers().size(), 1u);
  EXPECT_EQ(parser.trailers()[0].name, "X-Sum");
  EXPECT_EQ(parser.trailers()[0].value, "5");
}

// Found by tests/fuzz/h1_request_fuzz.cc: llhttp's loose mode lets these names through.
TEST(H1ParserTest, RefusesATrailerWhoseNameIsNotAToken) {
  for (const char* trailer : {"A b: c\r\n", ": c\r\n", "A(: c\r\n"}) {
    H1Parser request(H1Parser::Mode::Request, {});
    const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    ASSERT_EQ(request.parse_head(head).status, ParseStatus::Done);
    BodyResult r = request.parse_body("1\r\na\r\n0\r\n" + std::string(trailer) + "\r\n");
    ASSERT_EQ(r.status, ParseStatus::Error) << trailer;
    EXPECT_EQ(r.error.kind, ErrorKind::BadRequest);

    H1Parser response(H1Parser::Mode::Response, {});
    ASSERT_EQ(response.parse_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").status,
              ParseStatus::Done);
    r = response.parse_body("0\r\n" + std::string(trailer) + "\r\n");
    ASSERT_EQ(r.status, ParseStatus::Error) << trailer;
    EXPECT_EQ(r.error.kind, ErrorKind::UpstreamBadResponse);
  }
}

// Found by tests/fuzz/h1_request_fuzz.cc: llhttp's loose mode skips the two bytes after a
// chunk's data without reading them.
TEST(H1ParserTest, RefusesChunkDataNotEndedByCrlfWhateverTheSplit) {
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string bad = "3\r\nabcXY0\r\n\r\n";
  const std::string good = "3\r\nabc\r\n0\r\n\r\n";
  for (size_t step : {1u, 2u, 5u, 100u}) {
    for (const std::string* body : {&bad, &good}) {
      H1Parser parser(H1Parser::Mode::Request, {});
      ASSERT_EQ(parser.parse_head(head).status, ParseStatus::Done);
      BodyResult r;
      for (size_t at = 0; at < body->size(); at += r.consumed) {
        r = parser.parse_body(std::string_view(*body).substr(at, step));
        if (r.status != ParseStatus::NeedMore) break;
      }
      if (body == &bad) {
        ASSERT_EQ(r.status, ParseStatus::Error) << "step " << step;
        EXPECT_EQ(r.error.kind, ErrorKind::BadRequest);
      } else {
        EXPECT_EQ(r.status, ParseStatus::Done) << "step " << step;
      }
    }
  }
  H1Parser response(H1Parser::Mode::Response, {});
  ASSERT_EQ(response.parse_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").status,
            ParseStatus::Done);
  BodyResult r = response.parse_body(bad);
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.kind, ErrorKind::UpstreamBadResponse);
}

// Found reviewing tests/fuzz/h1_request_fuzz.cc: only names counted, so one trailer's value
// could grow the parser's copy without bound.
TEST(H1ParserTest, BoundsTrailerValuesByTheHeadLimit) {
  H1Parser parser(H1Parser::Mode::Request, {.max_header_bytes = 1024});
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_EQ(parser.parse_head(head).status, ParseStatus::Done);
  ASSERT_EQ(parser.parse_body("0\r\nX-Big: ").status, ParseStatus::NeedMore);
  BodyResult r;
  for (int i = 0; i < 64 && r.status == ParseStatus::NeedMore; ++i) {
    r = parser.parse_body(std::string(100, 'v'));
  }
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.kind, ErrorKind::BadRequest);
}

ErrorKind head_error(std::string_view wire, ParseLimits limits = {}) {
  H1Parser parser(H1Parser::Mode::Request, limits);
  std::string buffer(wire);
  HeadResult r = parser.parse_head(buffer);
  EXPECT_EQ(r.status, ParseStatus::Error) << wire;
  return r.error.kind;
}

TEST(H1ParserTest, RefusesAmbiguousFraming) {
  EXPECT_EQ(head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n"),
            ErrorKind::BadRequest);
  EXPECT_EQ(
      head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
      ErrorKind::BadRequest);
  EXPECT_EQ(head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\n"),
            ErrorKind::BadRequest);
  EXPECT_EQ(
      head_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n"),
      ErrorKind::BadRequest);
}

// Found by tests/fuzz/h1_request_fuzz.cc: llhttp takes an empty Transfer-Encoding for none.
TEST(H1ParserTest, RefusesATransferEncodingThatDoesNotEndInChunked) {
  EXPECT_EQ(head_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n"),
            ErrorKind::BadRequest);
  EXPECT_EQ(head_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n"
                       "Content-Length: 3\r\n\r\nabc"),
            ErrorKind::BadRequest);
  EXPECT_EQ(head_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ErrorKind::BadRequest);
  // An empty list element is ignored (RFC 9110 §5.6.1.2): chunked is still the last coding.
  H1Parser parser(H1Parser::Mode::Request, {});
  const std::string wire =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n";
  ASSERT_EQ(parser.parse_head(wire).status, ParseStatus::Done);
  core::http::RequestHead head;
  parser.request_head(wire, head);
  EXPECT_EQ(head.framing, BodyFraming::Chunked);
}

TEST(H1ParserTest, RefusesWhatLlhttpLeavesToTheApplication) {
  EXPECT_EQ(head_error("GET / HTTP/1.1\nHost: h\n\n"), ErrorKind::BadRequest);  // bare LF
  EXPECT_EQ(head_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), ErrorKind::BadRequest);
  EXPECT_EQ(head_error("GET / HTTP/1.1\r\n\r\n"), ErrorKind::BadRequest);  // no Host
  EXPECT_EQ(head_error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), ErrorKind::BadRequest);
  EXPECT_EQ(head_error("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), ErrorKind::BadRequest);  // 2 spaces
  EXPECT_EQ(head_error("GET / HTTP/1.1\r\nHost: h\r\nX Bad: a\r\n\r\n"), ErrorKind::BadRequest);
  EXPECT_EQ(head_error("GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n"), ErrorKind::BadRequest);
  EXPECT_EQ(head_error("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), ErrorKind::BadRequest);
}

TEST(H1ParserTest, AppliesTheHeadLimitsWithTheirOwnStatus) {
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 5; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  EXPECT_EQ(head_error(many, {.max_headers = 3}), ErrorKind::HeadersTooLarge);
  EXPECT_EQ(head_error("GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n",
                       {.max_uri_bytes = 50}),
            ErrorKind::UriTooLong);
  EXPECT_EQ(head_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n",
                       {.max_body_bytes = 10}),
            ErrorKind::BodyTooLarge);
  H1Parser parser(H1Parser::Mode::Request, {.max_header_bytes = 64});
  std::string big = "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(100, 'v');
  EXPECT_EQ(parser.parse_head(big).error.kind, ErrorKind::HeadersTooLarge);
}

TEST(H1ParserTest, CountsChunkedBodyAgainstTheBodyLimit) {
  H1Parser parser(H1Parser::Mode::Request, {.max_body_bytes = 4});
  const std::string head_bytes = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_EQ(parser.parse_head(head_bytes).status, ParseStatus::Done);
  BodyResult r = parser.parse_body("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.kind, ErrorKind::BodyTooLarge);
}

TEST(H1ParserTest, ResponseWithoutLengthEndsAtClose) {
  H1Parser parser(H1Parser::Mode::Response, {});
  const std::string head_bytes = "HTTP/1.1 200 OK\r\nX: y\r\n\r\n";
  ASSERT_EQ(parser.parse_head(head_bytes).status, ParseStatus::Done);
  core::http::ResponseHead head;
  parser.response_head(head_bytes, head);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.framing, BodyFraming::UntilClose);
  EXPECT_FALSE(head.keep_alive);
  EXPECT_EQ(parser.parse_body("abc").status, ParseStatus::NeedMore);
  EXPECT_EQ(parser.finish().status, ParseStatus::Done);
}

TEST(H1ParserTest, ResponseToHeadHasNoBodyDespiteItsLength) {
  H1Parser parser(H1Parser::Mode::Response, {});
  parser.reset(/*response_to_head=*/true);
  const std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
  HeadResult r = parser.parse_head(wire);
  ASSERT_EQ(r.status, ParseStatus::Done);
  core::http::ResponseHead head;
  parser.response_head(wire, head);
  EXPECT_EQ(head.framing, BodyFraming::None);
  EXPECT_EQ(head.content_length, 50u);
  EXPECT_EQ(parser.parse_body(std::string_view(wire).substr(r.consumed)).status, ParseStatus::Done);
}

// Found by tests/fuzz/h1_response_fuzz.cc: llhttp read a 204's Content-Length as its body.
TEST(H1ParserTest, ResponseWithoutBodyByItsStatusIgnoresItsLength) {
  for (const char* status : {"204 No Content", "304 Not Modified", "103 Early Hints"}) {
    H1Parser parser(H1Parser::Mode::Response, {});
    const std::string first = "HTTP/1.1 " + std::string(status) + "\r\nContent-Length: 10\r\n\r\n";
    const std::string wire = first + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    HeadResult r = parser.parse_head(wire);
    ASSERT_EQ(r.status, ParseStatus::Done) << status;
    EXPECT_EQ(r.consumed, first.size()) << status;
    EXPECT_TRUE(parser.body_pieces().empty());
    core::http::ResponseHead head;
    parser.response_head(wire, head);
    EXPECT_EQ(head.framing, BodyFraming::None);
    EXPECT_EQ(parser.parse_body(std::string_view(wire).substr(r.consumed)).status,
              ParseStatus::Done);
  }
}

TEST(H1ParserTest, InterimResponseIsAMessageOfItsOwn) {
  H1Parser parser(H1Parser::Mode::Response, {});
  const std::string wire = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n";
  HeadResult r = parser.parse_head(wire);
  ASSERT_EQ(r.status, ParseStatus::Done);
  core::http::ResponseHead head;
  parser.response_head(wire, head);
  EXPECT_EQ(head.status, 103);
  EXPECT_EQ(wire.substr(r.consumed), "HTTP/1.1 200 OK\r\n");
}

// Found by tests/fuzz/h1_response_fuzz.cc: llhttp's loose mode passes these heads.
TEST(H1ParserTest, RefusesAResponseHeadItCouldNotForwardIntact) {
  for (const char* wire : {
           "HTTP/1.1 200 OK\r\nX Bad: v\r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 200 OK\r\n: v\r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\nContent-Length: 3\r\n\r\nabc",
           "HTTP/1.1 000 Zero\r\n\r\n",
           "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
       }) {
    H1Parser parser(H1Parser::Mode::Response, {});
    HeadResult r = parser.parse_head(wire);
    ASSERT_EQ(r.status, ParseStatus::Error) << wire;
    EXPECT_EQ(r.error.kind, ErrorKind::UpstreamBadResponse) << wire;
  }
}

// Found by tests/fuzz/h1_response_fuzz.cc: it was HeadersTooLarge, a 431 for the client.
TEST(H1ParserTest, ResponseWithTooManyFieldsIsAnUpstreamError) {
  H1Parser parser(H1Parser::Mode::Response, {.max_headers = 3});
  HeadResult r = parser.parse_head("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.kind, ErrorKind::UpstreamBadResponse);
}

TEST(H1ParserTest, GarbageResponseIsAnUpstreamError) {
  H1Parser parser(H1Parser::Mode::Response, {});
  HeadResult r = parser.parse_head("SSH-2.0-OpenSSH\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.kind, ErrorKind::UpstreamBadResponse);
}

}  // namespace
}  // namespace vx::adapters::h1
