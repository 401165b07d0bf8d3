#include "proxy/forwarded_headers.h"

#include "core/http/hop_by_hop.h"

namespace vx::proxy {

using core::http::Header;
using core::http::iequals;

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_request_id(std::string& out, core::Random& random) {
  char id[32];
  for (int word = 0; word < 2; ++word) {
    uint64_t bits = random.next();
    for (int i = 0; i < 16; ++i, bits >>= 4) id[word * 16 + i] = kHex[bits & 0xf];
  }
  out.append(id, sizeof id);
}

}  // namespace

// Appends the values of every field `name` joined by ", ", then `own`, to scratch; returns
// where the joined value starts.
size_t append_chain(std::string& scratch, const core::http::HeaderList& headers,
                    std::string_view name, std::string_view own) {
  const size_t at = scratch.size();
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    scratch.append(h.value);
    scratch.append(", ");
  }
  scratch.append(own);
  return at;
}

std::string_view request_id_for(const core::http::RequestHead& head, std::string& out,
                                core::Random& random) {
  out.clear();
  const auto given = core::http::find_header(head.headers, "x-request-id");
  if (given && !given->empty()) {
    out.assign(*given);
  } else {
    append_request_id(out, random);
  }
  return out;
}

void rewrite_forwarded_headers(core::http::RequestHead& head, std::string& scratch,
                               std::string_view client_ip, std::string_view request_id) {
  core::http::remove_hop_by_hop(head.headers, head.upgrade);
  scratch.clear();
  // One pass sorts the fields by what happens to them, switched on name length first (this
  // runs on every request): dropped, or kept (noting x-request-id). The chains Vortex extends
  // are joined into scratch only when the request brought any.
  enum class Field : uint8_t { Keep, Forwarded, Via, Drop };
  auto classify = [](std::string_view name) {
    switch (name.size()) {
      case 3:
        return iequals(name, "via") ? Field::Via : Field::Keep;
      case 6:  // Expect is answered here (100 Continue comes from Vortex), never forwarded.
        return iequals(name, "expect") ? Field::Drop : Field::Keep;
      case 15:
        return iequals(name, "x-forwarded-for") ? Field::Forwarded : Field::Keep;
      case 17:
        return iequals(name, "x-forwarded-proto") ? Field::Drop : Field::Keep;
      default:
        return Field::Keep;
    }
  };
  bool chains = false;
  for (const auto& h : head.headers) {
    const Field f = classify(h.name);
    chains = chains || f == Field::Forwarded || f == Field::Via;
  }
  // Values go into scratch first and become views at the end, once it can no longer reallocate.
  size_t xff_at = 0, xff_end = 0, via_at = 0, via_end = 0;
  if (chains) {
    xff_at = append_chain(scratch, head.headers, "x-forwarded-for", client_ip);
    xff_end = scratch.size();
    via_at = append_chain(scratch, head.headers, "via", "1.1 vortex");
    via_end = scratch.size();
  }

  size_t out = 0;
  bool has_id = false;
  for (size_t i = 0; i < head.headers.size(); ++i) {
    const Header h = head.headers[i];
    if (classify(h.name) != Field::Keep) continue;
    if (h.name.size() == 12 && !h.value.empty() && iequals(h.name, "x-request-id")) has_id = true;
    head.headers[out++] = h;
  }
  head.headers.resize(out);

  const std::string_view s(scratch);
  head.headers.push_back(
      {"x-forwarded-for", chains ? s.substr(xff_at, xff_end - xff_at) : client_ip});
  head.headers.push_back({"x-forwarded-proto", head.scheme});
  head.headers.push_back({"via", chains ? s.substr(via_at, via_end - via_at) : "1.1 vortex"});
  if (!has_id) head.headers.push_back({"x-request-id", request_id});
}

}  // namespace vx::proxy
