#include "adapters/codec/h2/request_head.h"

#include <algorithm>
#include <charconv>

#include "core/http/authority.h"

namespace vx::adapters::h2 {

using core::http::BodyFraming;
using core::http::Error;
using core::http::ErrorKind;

namespace {

// Method names as static strings: the access log keeps the view past the stream's head.
std::string_view static_method(std::string_view m) {
  static constexpr std::string_view kKnown[] = {"GET",     "HEAD",  "POST",  "PUT",    "DELETE",
                                                "OPTIONS", "PATCH", "TRACE", "CONNECT"};
  for (auto k : kKnown) {
    if (k == m) return k;
  }
  return m;
}

}  // namespace

std::optional<Error> check_request_head(const HeaderBlock& block,
                                        const std::optional<Error>& connect_refusal) {
  if (block.too_large) {
    return Error{ErrorKind::HeadersTooLarge, "request header fields too large"};
  }
  const std::string_view method = block.find(":method");
  const std::string_view authority = block.find(":authority");
  if (!core::http::is_valid_authority(authority)) {
    return Error{ErrorKind::BadRequest, "invalid :authority"};
  }
  int hosts = 0;
  for (const auto& f : block.fields) {
    if (block.name(f) != "host") continue;
    const std::string_view host = block.value(f);
    // A Host that differs from :authority makes the request malformed; routing uses one, so
    // the upstream must never see the other.
    if (++hosts > 1 || !core::http::is_valid_authority(host) ||
        (!authority.empty() && !core::http::iequals(host, authority))) {
      return Error{ErrorKind::BadRequest, "Host and :authority disagree"};
    }
  }
  if (method == "CONNECT" && connect_refusal) return connect_refusal;
  const std::string_view scheme = block.find(":scheme");
  if (scheme != "http" && scheme != "https") return Error{ErrorKind::BadRequest, "invalid :scheme"};
  const std::string_view path = block.find(":path");
  if (path.find('#') != std::string_view::npos) {
    return Error{ErrorKind::BadRequest, ":path with a fragment"};
  }
  if (path.empty() || (path.front() != '/' && !(path == "*" && method == "OPTIONS"))) {
    return Error{ErrorKind::BadRequest, "invalid :path"};
  }
  return std::nullopt;
}

void read_request_head(const HeaderBlock& block, bool end_stream, std::string& cookie,
                       core::http::RequestHead& out) {
  out.method = static_method(block.find(":method"));
  out.target = block.find(":path");
  out.authority = block.find(":authority");
  out.version_minor = 1;
  block.regular_fields(out.headers);
  const auto is_cookie = [](const core::http::Header& h) { return h.name == "cookie"; };
  if (std::count_if(out.headers.begin(), out.headers.end(), is_cookie) > 1) {
    cookie.clear();
    for (const auto& h : out.headers) {
      if (!is_cookie(h)) continue;
      if (!cookie.empty()) cookie.append("; ");
      cookie.append(h.value);
    }
    std::erase_if(out.headers, is_cookie);
    out.headers.push_back({"cookie", cookie});
  }
  // HTTP/1.1 upstreams need Host (:authority replaces it; a Host beside it was checked to agree).
  if (out.authority.empty()) {
    out.authority = core::http::find_header(out.headers, "host").value_or("");
  } else if (!core::http::find_header(out.headers, "host")) {
    out.headers.push_back({"host", out.authority});
  }
  if (end_stream) {
    out.framing = BodyFraming::None;
  } else if (auto length = core::http::find_header(out.headers, "content-length")) {
    uint64_t n = 0;
    std::from_chars(length->data(), length->data() + length->size(), n);
    out.framing = BodyFraming::ContentLength;
    out.content_length = n;
  } else {
    out.framing = BodyFraming::Chunked;  // a body of unknown length
  }
  const auto expect = core::http::find_header(out.headers, "expect");
  out.expect_continue = expect && core::http::iequals(*expect, "100-continue");
}

}  // namespace vx::adapters::h2
