// sniff_model on request bodies (routes[].match.ai_model, clusters[].model_routing): the input
// is a body. Checks what model_sniffer.h promises: a Found model is a view into the bytes given,
// never empty and never holding an escape; more bytes never change an answer already given
// (Found or NotFound on a prefix stays so on the whole body); a complete body never gets
// NeedMore. And, for a body that is valid JSON by nlohmann::json and spells "model" once, with
// no backslash anywhere, the answer is the top-level "model" string, as a JSON parser reads it.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "proxy/model_sniffer.h"

namespace {

using vx::proxy::SniffResult;
using vx::proxy::SniffStatus;

void check(const SniffResult& r, std::string_view bytes) {
  if (r.status != SniffStatus::Found) {
    VX_FUZZ_CHECK(r.model.empty());
    return;
  }
  VX_FUZZ_CHECK(!r.model.empty() && vx::fuzz::inside(r.model, bytes));
  VX_FUZZ_CHECK(r.model.find('\\') == std::string_view::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  body = body.substr(0, vx::proxy::kModelSniffBytes);  // body_prefix.cc never looks further
  vx::fuzz::Choices choices(body);

  const SniffResult whole = vx::proxy::sniff_model(body, true);
  check(whole, body);
  VX_FUZZ_CHECK(whole.status != SniffStatus::NeedMore);

  // The prefixes a connection delivers, as body_prefix.cc asks again with each.
  for (size_t at = 0; at < body.size();) {
    at += choices.piece(body.size() - at);
    const std::string_view prefix = body.substr(0, at);
    const SniffResult partial = vx::proxy::sniff_model(prefix, false);
    check(partial, prefix);
    if (partial.status == SniffStatus::NeedMore) continue;
    VX_FUZZ_CHECK(partial.status == whole.status && partial.model == whole.model);
    break;
  }

  if (body.find('\\') != std::string_view::npos) return 0;
  const size_t first = body.find("\"model\"");
  if (first == std::string_view::npos ||
      body.find("\"model\"", first + 1) != std::string_view::npos) {
    return 0;
  }
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  if (json.is_object() && json.contains("model") && json.at("model").is_string() &&
      !json.at("model").get_ref<const std::string&>().empty()) {
    VX_FUZZ_CHECK(whole.status == SniffStatus::Found);
    VX_FUZZ_CHECK(whole.model == json.at("model").get_ref<const std::string&>());
  } else {
    VX_FUZZ_CHECK(whole.status == SniffStatus::NotFound);
  }
  return 0;
}
