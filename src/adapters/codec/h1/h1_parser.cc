#include "adapters/codec/h1/h1_parser.h"

#include <algorithm>
#include <cstring>

#include "adapters/codec/h1/h1_serializer.h"
#include "core/http/authority.h"
#include "core/http/token.h"

namespace vx::adapters::h1 {

using core::http::BodyFraming;
using core::http::Error;
using core::http::ErrorKind;
using namespace std::string_view_literals;

namespace {

std::string_view view(std::string_view buffer, uint32_t offset, uint32_t length) {
  return buffer.substr(offset, length);
}

std::string_view trim_trailing_ows(std::string_view v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

H1Parser::H1Parser(Mode mode, ParseLimits limits) : mode_(mode), limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_url = &H1Parser::on_url;
  settings_.on_status = &H1Parser::on_status;
  settings_.on_header_field = &H1Parser::on_header_field;
  settings_.on_header_value = &H1Parser::on_header_value;
  settings_.on_header_value_complete = &H1Parser::on_header_value_complete;
  settings_.on_headers_complete = &H1Parser::on_headers_complete;
  settings_.on_body = &H1Parser::on_body;
  settings_.on_message_complete = &H1Parser::on_message_complete;
  llhttp_init(&parser_, mode == Mode::Request ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
  parser_.data = this;
  fields_.reserve(32);
  body_pieces_.reserve(8);
}

void H1Parser::reset(bool response_to_head) {
  llhttp_init(&parser_, mode_ == Mode::Request ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
  parser_.data = this;
  base_ = nullptr;
  parsed_ = 0;
  in_body_ = false;
  head_done_ = false;
  too_many_headers_ = false;
  response_to_head_ = response_to_head;
  url_ = {};
  status_text_ = {};
  fields_.clear();
  field_open_ = false;
  body_bytes_ = 0;
  message_done_ = false;
  crlf_unchecked_ = 0;
  body_pieces_.clear();
  trailer_bytes_.clear();
  trailer_marks_.clear();
  trailer_name_open_ = false;
  trailers_.clear();
}

void H1Parser::extend(Span& span, const char* at, size_t n) {
  const auto offset = static_cast<uint32_t>(at - base_);
  if (span.length == 0) span.offset = offset;
  // Pieces of one element are contiguous in the buffer, whichever call delivered them.
  span.length = offset + static_cast<uint32_t>(n) - span.offset;
}

int H1Parser::on_url(llhttp_t* p, const char* at, size_t n) {
  H1Parser& s = self(p);
  s.extend(s.url_, at, n);
  if (s.url_.length > s.limits_.max_uri_bytes) {
    llhttp_set_error_reason(p, "uri too long");
    return HPE_USER;
  }
  return 0;
}

int H1Parser::on_status(llhttp_t* p, const char* at, size_t n) {
  H1Parser& s = self(p);
  s.extend(s.status_text_, at, n);
  return 0;
}

int H1Parser::on_header_field(llhttp_t* p, const char* at, size_t n) {
  H1Parser& s = self(p);
  if (s.in_body_) {  // a trailer field
    if (!s.trailer_name_open_) {
      s.trailer_marks_.emplace_back(s.trailer_bytes_.size(), 0);
      s.trailer_name_open_ = true;
    }
    s.trailer_bytes_.append(at, n);
    if (s.trailer_bytes_.size() > s.limits_.max_header_bytes) {
      llhttp_set_error_reason(p, "trailers too large");
      return HPE_USER;
    }
    return 0;
  }
  if (!s.field_open_) {
    if (s.fields_.size() >= s.limits_.max_headers) {
      s.too_many_headers_ = true;
      llhttp_set_error_reason(p, "too many header fields");
      return HPE_USER;
    }
    s.fields_.emplace_back();
    s.field_open_ = true;
  }
  s.extend(s.fields_.back().name, at, n);
  return 0;
}

int H1Parser::on_header_value(llhttp_t* p, const char* at, size_t n) {
  H1Parser& s = self(p);
  if (s.in_body_) {
    if (s.trailer_name_open_) {
      s.trailer_bytes_.push_back('\0');
      s.trailer_marks_.back().second = s.trailer_bytes_.size();
      s.trailer_name_open_ = false;
    }
    s.trailer_bytes_.append(at, n);
    // The trailers are copied (their bytes go by with the body's): bound names and values.
    if (s.trailer_bytes_.size() > s.limits_.max_header_bytes) {
      llhttp_set_error_reason(p, "trailers too large");
      return HPE_USER;
    }
    return 0;
  }
  s.field_open_ = false;
  s.extend(s.fields_.back().value, at, n);
  return 0;
}

int H1Parser::on_header_value_complete(llhttp_t* p) {
  H1Parser& s = self(p);
  if (s.in_body_) {
    if (s.trailer_name_open_) {  // empty value
      s.trailer_bytes_.push_back('\0');
      s.trailer_marks_.back().second = s.trailer_bytes_.size();
      s.trailer_name_open_ = false;
    }
    s.trailer_bytes_.push_back('\0');
    return 0;
  }
  s.field_open_ = false;  // an empty value gets no on_header_value call
  return 0;
}

int H1Parser::on_headers_complete(llhttp_t* p) {
  H1Parser& s = self(p);
  s.head_done_ = true;
  s.in_body_ = true;
  const bool has_length = p->flags & F_CONTENT_LENGTH;
  bool body_follows = false;
  if (s.mode_ == Mode::Request) {
    if (s.limits_.max_body_bytes != 0 && has_length &&
        p->content_length > s.limits_.max_body_bytes) {
      llhttp_set_error_reason(p, "request body too large");
      return -1;
    }
    body_follows = (p->flags & F_CHUNKED) || (has_length && p->content_length > 0);
  } else {
    const int status = p->status_code;
    // RFC 9110 §15: below 100 is no status at all (it would pass for an interim 1xx).
    if (status < 100) return -1;
    // RFC 9112 §6.3 rules 1 and 2: no body after a HEAD request, nor in a 1xx, 204 or 304,
    // whatever the fields say. llhttp knows only 100 and 101 (and nothing of the request), so
    // it is told with 1 = "no body"; otherwise it read a 204's Content-Length worth of the
    // next response as this one's body.
    if (s.response_to_head_ || status < 200 || status == 204 || status == 304) return 1;
    body_follows = !(has_length && p->content_length == 0);
  }
  // Without a body on_message_complete follows at once and pauses there instead.
  return body_follows ? HPE_PAUSED : 0;
}

int H1Parser::on_body(llhttp_t* p, const char* at, size_t n) {
  H1Parser& s = self(p);
  s.body_bytes_ += n;
  if (s.mode_ == Mode::Request && s.limits_.max_body_bytes != 0 &&
      s.body_bytes_ > s.limits_.max_body_bytes) {
    llhttp_set_error_reason(p, "request body too large");
    return HPE_USER;
  }
  if ((p->flags & F_CHUNKED) && p->content_length == 0 && !s.chunk_data_ends_well(at + n)) {
    llhttp_set_error_reason(p, "invalid chunk ending");
    return HPE_USER;
  }
  s.body_pieces_.emplace_back(at, n);
  return 0;
}

// RFC 9112 §7.1: chunk-data is followed by CRLF. llhttp's loose mode skips those two bytes
// unread ("3\r\nabcXY0\r\n\r\n" passed as "abc"), so they are checked here, and the ones
// past the end of this call's bytes at the start of the next parse_body.
bool H1Parser::chunk_data_ends_well(const char* after) {
  const size_t here = std::min<size_t>(kCrlf.size(), static_cast<size_t>(end_ - after));
  crlf_unchecked_ = static_cast<uint8_t>(kCrlf.size() - here);
  return std::string_view(after, here) == kCrlf.substr(0, here);
}

int H1Parser::on_message_complete(llhttp_t* p) {
  H1Parser& s = self(p);
  if (!s.finish_trailers()) return -1;  // HPE_CB_MESSAGE_COMPLETE
  s.message_done_ = true;
  return HPE_PAUSED;  // keep pipelined bytes for the next message
}

bool H1Parser::finish_trailers() {
  trailers_.clear();
  for (auto [name_at, value_at] : trailer_marks_) {
    if (value_at == 0) continue;
    std::string_view name(trailer_bytes_.data() + name_at, value_at - 1 - name_at);
    std::string_view value(trailer_bytes_.data() + value_at);
    // llhttp's loose mode passes a trailer name that is empty or holds a space or a separator
    // ("A b: c", ": c"); the head's names are checked after it, and trailers are forwarded too.
    if (!core::http::is_token(name)) return false;
    trailers_.push_back({name, trim_trailing_ows(value)});
  }
  return true;
}

Error H1Parser::llhttp_error(llhttp_errno_t err) const {
  const bool request = mode_ == Mode::Request;
  const ErrorKind kind = request ? ErrorKind::BadRequest : ErrorKind::UpstreamBadResponse;
  if (err == HPE_USER) {
    const char* reason = llhttp_get_error_reason(&parser_);
    if (too_many_headers_) {  // an upstream's fault is a 502, not the client's 431
      return {request ? ErrorKind::HeadersTooLarge : kind, "too many header fields"};
    }
    if (reason && std::strcmp(reason, "uri too long") == 0) {
      return {ErrorKind::UriTooLong, "request target too long"};
    }
    if (reason && std::strcmp(reason, "request body too large") == 0) {
      return {ErrorKind::BodyTooLarge, "request body too large"};
    }
    // The callbacks' other reasons are literals that serve as the detail.
    return {kind, reason ? reason : "malformed message"};
  }
  if (err == HPE_CB_HEADERS_COMPLETE) {
    return request ? Error{ErrorKind::BodyTooLarge, "request body too large"}
                   : Error{kind, "invalid status code"};
  }
  switch (err) {
    case HPE_CB_MESSAGE_COMPLETE:
      return {kind, "malformed trailers"};
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return {kind, "conflicting Content-Length and Transfer-Encoding"};
    case HPE_INVALID_CONTENT_LENGTH:
      return {kind, "invalid Content-Length"};
    case HPE_INVALID_TRANSFER_ENCODING:
      return {kind, "invalid Transfer-Encoding"};
    case HPE_INVALID_CHUNK_SIZE:
      return {kind, "invalid chunk size"};
    case HPE_INVALID_METHOD:
      return {kind, "invalid method"};
    case HPE_INVALID_URL:
      return {kind, "invalid request target"};
    case HPE_INVALID_VERSION:
      return {kind, "invalid HTTP version"};
    case HPE_INVALID_HEADER_TOKEN:
      return {kind, "invalid character in header"};
    case HPE_INVALID_STATUS:
      return {kind, "invalid status line"};
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED:
      return {kind, "invalid line ending"};
    case HPE_INVALID_EOF_STATE:
      return {request ? ErrorKind::DownstreamClosed : ErrorKind::UpstreamReset,
              "connection closed before the message ended"};
    default:
      return {kind, request ? "malformed request" : "malformed response"};
  }
}

HeadResult H1Parser::parse_head(std::string_view buffer) {
  base_ = buffer.data();
  const size_t fresh = buffer.size() - parsed_;
  if (fresh == 0) return {};
  const llhttp_errno_t err = llhttp_execute(&parser_, buffer.data() + parsed_, fresh);
  if (err == HPE_OK) {
    parsed_ = buffer.size();
    if (parsed_ > limits_.max_header_bytes) {
      if (mode_ == Mode::Response) {
        return {ParseStatus::Error, 0, {ErrorKind::UpstreamBadResponse, "response head too large"}};
      }
      if (url_.length > 0 && fields_.empty() && !head_done_) {
        // still inside the request line
        return {ParseStatus::Error, 0, {ErrorKind::UriTooLong, "request target too long"}};
      }
      return {ParseStatus::Error, 0, {ErrorKind::HeadersTooLarge, "request head too large"}};
    }
    return {};
  }
  if ((err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE) || !head_done_) {
    return {ParseStatus::Error, 0, llhttp_error(err)};
  }
  const size_t consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - buffer.data());
  if (consumed > limits_.max_header_bytes) {
    return {ParseStatus::Error, 0,
            mode_ == Mode::Request
                ? Error{ErrorKind::HeadersTooLarge, "request head too large"}
                : Error{ErrorKind::UpstreamBadResponse, "response head too large"}};
  }
  parsed_ = consumed;
  const Error e = mode_ == Mode::Request ? check_request_head(buffer.substr(0, consumed))
                                         : check_response_head(buffer.substr(0, consumed));
  if (e.kind != ErrorKind::Internal) return {ParseStatus::Error, 0, e};
  if (err == HPE_PAUSED && !message_done_) llhttp_resume(&parser_);
  return {ParseStatus::Done, consumed, {}};
}

// Checks llhttp leaves to the application (RFC 9112 §2.2, §3.2, §5.2). Internal = none failed.
Error H1Parser::check_request_head(std::string_view head) const {
  // Bare LF and obs-fold line continuations are both smuggling vectors: reject, never guess.
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] != '\n') continue;
    if (i == 0 || head[i - 1] != '\r') return {ErrorKind::BadRequest, "bare LF in request head"};
    if (i + 1 < head.size() && (head[i + 1] == ' ' || head[i + 1] == '\t')) {
      return {ErrorKind::BadRequest, "obsolete line folding"};
    }
  }
  if (parser_.http_major != 1 || parser_.http_minor > 1) {
    return {ErrorKind::BadRequest, "unsupported HTTP version"};
  }
  if (parser_.method == HTTP_CONNECT) return {ErrorKind::BadRequest, "CONNECT is not supported"};
  // RFC 9112 §3: method SP request-target SP HTTP-version CRLF, single spaces only.
  std::string_view target = view(head, url_.offset, url_.length);
  const std::string_view method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  if (url_.offset != method.size() + 1 || head.substr(0, method.size()) != method ||
      head.substr(url_.offset + url_.length, 11) !=
          (parser_.http_minor == 1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n")) {
    return {ErrorKind::BadRequest, "malformed request line"};
  }
  int hosts = 0;
  std::string_view host;
  bool transfer_encoding = false;
  for (const auto& f : fields_) {
    std::string_view name = view(head, f.name.offset, f.name.length);
    if (!core::http::is_token(name)) return {ErrorKind::BadRequest, "invalid header field name"};
    if (core::http::iequals(name, "host")) {
      ++hosts;
      host = trim_trailing_ows(view(head, f.value.offset, f.value.length));
    } else if (parser_.http_minor == 0 && core::http::iequals(name, "transfer-encoding")) {
      // RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding; its framing is faulty, and an old
      // intermediary would frame it differently (smuggling).
      return {ErrorKind::BadRequest, "Transfer-Encoding in an HTTP/1.0 request"};
    }
    transfer_encoding = transfer_encoding || core::http::iequals(name, "transfer-encoding");
  }
  // RFC 9112 §6.3 rule 4: a request whose Transfer-Encoding does not end in chunked has no
  // knowable length. llhttp refuses one that names another coding, but an empty value names
  // none and passed as "no body", even beside a Content-Length (SPEC.md §3: both are a 400).
  if (transfer_encoding && !(parser_.flags & F_CHUNKED)) {
    return {ErrorKind::BadRequest, "invalid Transfer-Encoding"};
  }
  if (hosts > 1) return {ErrorKind::BadRequest, "more than one Host field"};
  if (hosts == 0 && parser_.http_minor == 1) return {ErrorKind::BadRequest, "missing Host field"};
  if (hosts == 1 && !core::http::is_valid_authority(host)) {
    return {ErrorKind::BadRequest, "invalid Host field"};
  }
  if (target.empty()) return {ErrorKind::BadRequest, "empty request target"};
  for (char c : target) {
    // llhttp lets a TAB through (and obs-text); a control byte in the target is never valid
    // (RFC 9112 §3.2) and some upstream would split the request line on it.
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return {ErrorKind::BadRequest, "invalid request target"};
  }
  const bool origin_form = target.front() == '/';
  const bool absolute_form =
      !origin_form && (target.starts_with("http://"sv) || target.starts_with("https://"sv));
  const bool asterisk = target == "*" && parser_.method == HTTP_OPTIONS;
  if (!origin_form && !absolute_form && !asterisk) {
    return {ErrorKind::BadRequest, "invalid request target"};
  }
  if (absolute_form) {
    // RFC 9112 §3.2.2 lets the target's authority win; a Host that disagrees is ambiguous
    // between hops, so it is refused rather than guessed (SPEC.md §3).
    std::string_view rest = target.substr(target.find("://") + 3);
    std::string_view authority = rest.substr(0, rest.find('/'));
    if (authority.empty() || !core::http::is_valid_authority(authority)) {
      return {ErrorKind::BadRequest, "invalid request target"};
    }
    if (hosts == 1 && !core::http::iequals(authority, host)) {
      return {ErrorKind::BadRequest, "request target and Host disagree"};
    }
  }
  return {ErrorKind::Internal, {}};
}

// What llhttp's loose mode lets through in a response head that Vortex would forward.
// Internal = nothing.
Error H1Parser::check_response_head(std::string_view head) const {
  // RFC 9112 §5.2: an obs-fold's CRLF would stay inside the value handed downstream, where a
  // client or the next proxy may take it for the end of the field; 502 is one of the two
  // answers the RFC allows.
  for (size_t i = head.find('\n'); i != std::string_view::npos; i = head.find('\n', i + 1)) {
    if (i + 1 < head.size() && (head[i + 1] == ' ' || head[i + 1] == '\t')) {
      return {ErrorKind::UpstreamBadResponse, "obsolete line folding"};
    }
  }
  bool transfer_encoding = false;
  for (const auto& f : fields_) {
    const std::string_view name = view(head, f.name.offset, f.name.length);
    if (!core::http::is_token(name)) {
      return {ErrorKind::UpstreamBadResponse, "invalid header field name"};
    }
    transfer_encoding = transfer_encoding || core::http::iequals(name, "transfer-encoding");
  }
  // RFC 9112 §6.3 rule 3. llhttp refuses both fields unless the Transfer-Encoding is empty.
  if (transfer_encoding && (parser_.flags & F_CONTENT_LENGTH)) {
    return {ErrorKind::UpstreamBadResponse, "conflicting Content-Length and Transfer-Encoding"};
  }
  return {ErrorKind::Internal, {}};
}

void H1Parser::request_head(std::string_view buffer, core::http::RequestHead& head) const {
  head.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  head.version_minor = parser_.http_minor;
  head.target = view(buffer, url_.offset, url_.length);
  head.headers.clear();
  for (const auto& f : fields_) {
    head.headers.push_back({view(buffer, f.name.offset, f.name.length),
                            trim_trailing_ows(view(buffer, f.value.offset, f.value.length))});
  }
  head.authority = core::http::find_header(head.headers, "host").value_or(std::string_view{});
  if (!head.target.starts_with('/') && head.target != "*"sv) {
    // absolute-form (RFC 9112 §3.2.2): the target's authority wins over Host
    std::string_view rest = head.target.substr(head.target.find("://") + 3);
    const size_t slash = rest.find('/');
    head.authority = rest.substr(0, slash);
    head.target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  }
  if (parser_.flags & F_CHUNKED) {
    head.framing = BodyFraming::Chunked;
  } else if (parser_.flags & F_CONTENT_LENGTH) {
    head.framing = parser_.content_length == 0 ? BodyFraming::None : BodyFraming::ContentLength;
    head.content_length = parser_.content_length;
  } else {
    head.framing = BodyFraming::None;
  }
  // An upgrade the pipeline may tunnel. h2c never is (RFC 7540 §3.2 is hop-by-hop: Vortex
  // switches itself or not at all); forwarding it lets a client talk HTTP/2 to the origin past
  // routing and filters ("h2c smuggling").
  const auto upgrade = core::http::find_header(head.headers, "upgrade");
  head.upgrade = (parser_.flags & F_CONNECTION_UPGRADE) && parser_.upgrade && upgrade &&
                 !core::http::list_contains(*upgrade, "h2c");
  const auto expect = core::http::find_header(head.headers, "expect");
  head.expect_continue = expect && core::http::iequals(*expect, "100-continue");
}

void H1Parser::response_head(std::string_view buffer, core::http::ResponseHead& head) const {
  head.status = static_cast<uint16_t>(parser_.status_code);
  head.reason = view(buffer, status_text_.offset, status_text_.length);
  head.version_minor = parser_.http_minor;
  head.headers.clear();
  for (const auto& f : fields_) {
    head.headers.push_back({view(buffer, f.name.offset, f.name.length),
                            trim_trailing_ows(view(buffer, f.value.offset, f.value.length))});
  }
  const bool no_body =
      response_to_head_ || head.status < 200 || head.status == 204 || head.status == 304;
  if (no_body) {
    head.framing = BodyFraming::None;
  } else if (parser_.flags & F_CHUNKED) {
    head.framing = BodyFraming::Chunked;
  } else if (parser_.flags & F_CONTENT_LENGTH) {
    head.framing = parser_.content_length == 0 ? BodyFraming::None : BodyFraming::ContentLength;
  } else {
    head.framing = BodyFraming::UntilClose;
  }
  head.content_length = parser_.content_length;
  head.keep_alive = head.framing != BodyFraming::UntilClose && llhttp_should_keep_alive(&parser_);
}

BodyResult H1Parser::parse_body(std::string_view bytes) {
  body_pieces_.clear();
  if (message_done_) return {ParseStatus::Done, 0, {}};
  if (bytes.empty()) return {};
  if (crlf_unchecked_ > 0) {  // the end of the previous call's last chunk (on_body)
    const size_t n = std::min<size_t>(crlf_unchecked_, bytes.size());
    if (bytes.substr(0, n) != kCrlf.substr(kCrlf.size() - crlf_unchecked_, n)) {
      return {ParseStatus::Error,
              0,
              {mode_ == Mode::Request ? ErrorKind::BadRequest : ErrorKind::UpstreamBadResponse,
               "invalid chunk ending"}};
    }
    crlf_unchecked_ = static_cast<uint8_t>(crlf_unchecked_ - n);
  }
  end_ = bytes.data() + bytes.size();
  const llhttp_errno_t err = llhttp_execute(&parser_, bytes.data(), bytes.size());
  if (err == HPE_OK) return {ParseStatus::NeedMore, bytes.size(), {}};
  if ((err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) && message_done_) {
    const auto consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - bytes.data());
    return {ParseStatus::Done, consumed, {}};
  }
  return {ParseStatus::Error, 0, llhttp_error(err)};
}

BodyResult H1Parser::finish() {
  body_pieces_.clear();
  if (message_done_) return {ParseStatus::Done, 0, {}};
  const llhttp_errno_t err = llhttp_finish(&parser_);
  if ((err == HPE_OK || err == HPE_PAUSED) && message_done_) return {ParseStatus::Done, 0, {}};
  return {ParseStatus::Error, 0,
          mode_ == Mode::Request
              ? Error{ErrorKind::DownstreamClosed, "client closed before the body ended"}
              : Error{ErrorKind::UpstreamReset, "upstream closed before the body ended"}};
}

}  // namespace vx::adapters::h1
