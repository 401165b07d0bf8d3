// What happens to a request's fields and body between the codec and the upstream, and to a
// response head on its way back: request_id_for, the filters' edits (HeaderEditor,
// RequestHeadEditor, ResponseHeadEditor over a StringArena, BodyBuffer), the rate-limit key
// (RateLimitKey::parse, request_key), rewrite_forwarded_headers and remove_hop_by_hop.
//
// The input is text, one item a line:
//   Name: value          fields, up to the first empty line (any bytes, as a peer may send)
//   ip 10.0.0.1 | key header:x-api-key | scheme https | upgrade       then settings, and edits:
//   set N V | add N V | remove N | method M | target T | status S | splice AT LEN BYTES
//   (an empty line)      everything after it is the body, viewed in pieces
// Each result is compared with what the header's contract says, mostly by a plain
// re-implementation of the rule; every view is read at the end, so one left pointing into a
// buffer that moved is an ASan report.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/filter/body_buffer.h"
#include "core/filter/head_editor.h"
#include "core/filter/string_arena.h"
#include "core/http/header.h"
#include "core/http/hop_by_hop.h"
#include "core/http/token.h"
#include "core/ratelimit/rate_limit_key.h"
#include "fuzz_support.h"
#include "proxy/forwarded_headers.h"
#include "proxy/rate_limit_stage.h"

namespace {

using vx::core::filter::BodyBuffer;
using vx::core::filter::RequestHeadEditor;
using vx::core::filter::ResponseHeadEditor;
using vx::core::filter::StringArena;
using vx::core::http::Header;
using vx::core::http::HeaderList;
using vx::core::http::iequals;
using vx::fuzz::Choices;

constexpr size_t kMaxPieces = 16;
constexpr size_t kMaxSelfSplice = 64 * 1024;  // body size up to which a splice may insert itself

std::string_view next_line(std::string_view& text) {
  const size_t end = text.find('\n');
  const std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

// "word rest": the first word and what follows the space after it.
std::pair<std::string_view, std::string_view> split_word(std::string_view line) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return {line, {}};
  return {line.substr(0, space), line.substr(space + 1)};
}

size_t count(const HeaderList& headers, std::string_view name) {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(),
                                           [&](const Header& h) { return iequals(h.name, name); }));
}

size_t number(std::string_view s) {
  size_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

// RFC 9110 §7.6.1, written plainly: what remove_hop_by_hop must leave.
HeaderList without_hop_by_hop(const HeaderList& in, bool keep_upgrade) {
  std::vector<std::string_view> listed;  // the first 16 names Connection gives, as documented
  for (const Header& h : in) {
    if (!iequals(h.name, "connection")) continue;
    vx::core::http::for_each_token(h.value, [&](std::string_view token) {
      if (iequals(token, "close") || iequals(token, "keep-alive")) return;
      if (listed.size() < 16) listed.push_back(token);
    });
  }
  HeaderList out;
  for (const Header& h : in) {
    const std::string_view n = h.name;
    bool drop = iequals(n, "connection") || iequals(n, "keep-alive") ||
                iequals(n, "proxy-connection") || iequals(n, "transfer-encoding") ||
                (iequals(n, "te") && !iequals(h.value, "trailers")) ||
                (iequals(n, "upgrade") && !keep_upgrade);
    if (!(keep_upgrade && iequals(n, "upgrade"))) {
      for (std::string_view l : listed) drop = drop || iequals(l, n);
    }
    if (!drop) out.push_back(h);
  }
  return out;
}

bool same(const HeaderList& a, const HeaderList& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Header& x, const Header& y) {
    return x.name == y.name && x.value == y.value;
  });
}

void check_key(std::string_view spec, std::string_view client_ip, const HeaderList& headers) {
  const auto key = vx::core::ratelimit::RateLimitKey::parse(spec);
  const bool header_spec = spec.starts_with("header:") && vx::core::http::is_token(spec.substr(7));
  VX_FUZZ_CHECK(key.has_value() == (spec == "client_ip" || spec == "route" || header_spec));
  if (!key) return;
  for (char c : key->header_name) VX_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  const std::string_view client = vx::proxy::canonical_client_ip(client_ip);
  int lookups = 0;
  const std::string_view k = vx::core::ratelimit::request_key(
      *key, client,
      [&](std::string_view name) {
        ++lookups;
        return vx::core::http::find_header(headers, name);
      },
      "route-name");
  VX_FUZZ_CHECK(lookups <= 1);  // rate_limit_key.h: at most once
  VX_FUZZ_CHECK(k.size() <= vx::core::ratelimit::kMaxKeyBytes);
  VX_FUZZ_CHECK(k == vx::core::ratelimit::kMissingHeaderKey || !k.empty() || client.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Choices choices(text);

  vx::core::http::RequestHead request;
  request.method = "GET";
  request.scheme = "http";
  request.target = "/";
  for (std::string_view line = next_line(text); !line.empty(); line = next_line(text)) {
    const size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.push_back({line.substr(0, colon), value});
  }

  // request_id_for, before anything else (stream_context.cc).
  vx::core::Xoshiro256 random(choices.below(1 << 30));
  std::string id_scratch;
  const std::string_view request_id = vx::proxy::request_id_for(request, id_scratch, random);
  const auto given = vx::core::http::find_header(request.headers, "x-request-id");
  if (given && !given->empty()) {
    VX_FUZZ_CHECK(request_id == *given);
  } else {
    VX_FUZZ_CHECK(request_id.size() == 32);
    for (char c : request_id) VX_FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }

  // Settings and the filters' edits.
  std::string_view client_ip = "192.0.2.1", key_spec = "client_ip";
  StringArena arena;
  RequestHeadEditor editor(request, arena);
  vx::core::http::ResponseHead response;  // an upstream's answer with the same fields
  response.status = 200;
  response.headers = request.headers;
  ResponseHeadEditor response_editor(response, arena);
  std::string model;  // BodyBuffer's bytes, kept by plain string operations
  std::vector<std::string_view> pieces;
  BodyBuffer body;
  std::string_view edits = text;
  // The body comes after the edits: split it first, so splices have something to work on.
  for (std::string_view line = next_line(text); !line.empty(); line = next_line(text)) {
  }
  for (size_t at = 0; at < text.size() && pieces.size() < kMaxPieces;) {
    const size_t n =
        pieces.size() + 1 == kMaxPieces ? text.size() - at : choices.piece(text.size() - at);
    pieces.push_back(text.substr(at, n));
    at += n;
  }
  body.view(pieces);
  model.assign(text);
  VX_FUZZ_CHECK(body.size() == model.size());

  for (std::string_view line = next_line(edits); !line.empty(); line = next_line(edits)) {
    const auto [op, rest] = split_word(line);
    const auto [name, value] = split_word(rest);
    const bool acceptable = vx::core::http::is_token(name) &&
                            vx::core::filter::is_valid_field_value(value) &&
                            !iequals(name, "content-length") && !iequals(name, "transfer-encoding");
    if (op == "ip") {
      client_ip = rest;
    } else if (op == "key") {
      key_spec = rest;
    } else if (op == "scheme") {
      request.scheme = rest;
    } else if (op == "upgrade") {
      request.upgrade = true;
    } else if (op == "set" || op == "add") {
      auto& fields = choices.one_in(2)
                         ? static_cast<vx::core::filter::HeaderEditor&>(editor)
                         : static_cast<vx::core::filter::HeaderEditor&>(response_editor);
      const size_t before = count(fields.fields(), name);
      const bool ok = op == "set" ? fields.set(name, value) : fields.add(name, value);
      VX_FUZZ_CHECK(ok == acceptable);
      if (ok && op == "set") VX_FUZZ_CHECK(count(fields.fields(), name) == 1);
      if (ok && op == "add") VX_FUZZ_CHECK(count(fields.fields(), name) == before + 1);
      if (ok && op == "set") VX_FUZZ_CHECK(fields.get(name) == value);
      if (!ok) VX_FUZZ_CHECK(count(fields.fields(), name) == before);
    } else if (op == "remove") {
      const size_t before = count(request.headers, rest);
      VX_FUZZ_CHECK(editor.remove(rest) == before);
      VX_FUZZ_CHECK(count(request.headers, rest) == 0);
    } else if (op == "method") {
      VX_FUZZ_CHECK(editor.set_method(rest) == vx::core::http::is_token(rest));
    } else if (op == "target") {
      const bool valid = !rest.empty() && rest.front() == '/' &&
                         std::none_of(rest.begin(), rest.end(), [](char c) {
                           const auto b = static_cast<unsigned char>(c);
                           return b <= 0x20 || b == 0x7f || c == '#';
                         });
      VX_FUZZ_CHECK(editor.set_target(rest) == valid);
      if (valid) VX_FUZZ_CHECK(request.target == rest);
    } else if (op == "status") {
      // set_status takes a uint16_t: the value it is given decides, not the line's number
      // (935723496 arrives as 488).
      const auto status = static_cast<uint16_t>(number(rest));
      const bool valid = status >= 200 && status <= 599;
      VX_FUZZ_CHECK(response_editor.set_status(status) == valid);
    } else if (op == "splice") {
      const auto [len, bytes] = split_word(value);
      const size_t at = number(name), length = number(len);
      // Half the time the bytes are the body's own (splice() allows a view of its buffer), while
      // the body is small: inserted into itself line after line it doubles each time (a
      // 737-byte input took 12.7 s and 1.4 GB: a timeout of the harness, not of BodyBuffer).
      std::string_view insert = bytes;
      if (choices.one_in(2) && !body.pieces().empty() && model.size() <= kMaxSelfSplice) {
        insert = body.pieces().front();
      }
      const std::string copy(insert);
      const size_t from = std::min(at, model.size());
      model.replace(from, std::min(length, model.size() - from), copy);
      body.splice(at, length, insert);
      std::string out;
      body.copy_to(out);
      VX_FUZZ_CHECK(out == model && body.size() == model.size());
    }
  }

  check_key(key_spec, client_ip, request.headers);

  // rewrite_forwarded_headers (forwarded_headers_filter.cc), then a response's hop-by-hop pass.
  const HeaderList before = request.headers;
  const HeaderList expected = without_hop_by_hop(before, request.upgrade);
  std::string scratch;
  vx::proxy::rewrite_forwarded_headers(request, scratch, client_ip, request_id);
  std::string xff, via;
  for (const Header& h : before) {
    if (iequals(h.name, "x-forwarded-for")) xff.append(h.value).append(", ");
    if (iequals(h.name, "via")) via.append(h.value).append(", ");
  }
  xff.append(client_ip);
  via.append("1.1 vortex");
  // Only the fields it owns changed: the rest are the hop-by-hop pass's, in order.
  HeaderList kept;
  for (const Header& h : expected) {
    if (!iequals(h.name, "x-forwarded-for") && !iequals(h.name, "via") &&
        !iequals(h.name, "x-forwarded-proto") && !iequals(h.name, "expect")) {
      kept.push_back(h);
    }
  }
  // x-request-id is added, last, when no kept field carries one.
  HeaderList out = request.headers;
  const bool has_id = std::any_of(kept.begin(), kept.end(), [](const Header& h) {
    return iequals(h.name, "x-request-id") && !h.value.empty();
  });
  if (!has_id) {
    VX_FUZZ_CHECK(!out.empty() && out.back().name == "x-request-id" &&
                  out.back().value == request_id);
    out.pop_back();
  }
  HeaderList rest;
  for (const Header& h : out) {
    if (!iequals(h.name, "x-forwarded-for") && !iequals(h.name, "via") &&
        !iequals(h.name, "x-forwarded-proto")) {
      rest.push_back(h);
    }
  }
  VX_FUZZ_CHECK(same(kept, rest));
  VX_FUZZ_CHECK(count(request.headers, "x-forwarded-for") == 1);
  VX_FUZZ_CHECK(count(request.headers, "via") == 1 && count(request.headers, "expect") == 0);
  VX_FUZZ_CHECK(vx::core::http::find_header(request.headers, "x-forwarded-for") == xff);
  VX_FUZZ_CHECK(vx::core::http::find_header(request.headers, "via") == via);
  VX_FUZZ_CHECK(vx::core::http::find_header(request.headers, "x-forwarded-proto") ==
                request.scheme);

  const bool tunnel = choices.one_in(4);
  const HeaderList response_expected = without_hop_by_hop(response.headers, tunnel);
  vx::core::http::remove_hop_by_hop(response.headers, tunnel);
  VX_FUZZ_CHECK(same(response.headers, response_expected));

  // Every view is still readable: the arena never moves what it handed out, and the scratch
  // strings were not written to after their views were taken.
  uint64_t sum = 0;
  for (const HeaderList* list : {&request.headers, &response.headers}) {
    for (const Header& h : *list) {
      for (char c : h.name) sum += static_cast<unsigned char>(c);
      for (char c : h.value) sum += static_cast<unsigned char>(c);
    }
  }
  for (char c : request.method) sum += static_cast<unsigned char>(c);
  for (char c : request.target) sum += static_cast<unsigned char>(c);
  // Keeps the reads above from being optimised away (a volatile store alone draws clang's
  // unused-but-set warning).
  asm volatile("" : : "r"(sum));
  return 0;
}
