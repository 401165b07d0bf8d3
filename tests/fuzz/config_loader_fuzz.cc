// The configuration path of `vortex check`, a start and a reload: load_config_string() (YAML
// through libyaml, the schema pass, defaults, validate() with RE2) and, for a config it
// accepts, RouteTable::build and route matching. The input is a configuration file. Refusing
// it is fine; a crash, a hang, or an accepted config the route table then refuses is not.
//
// For every route it can build a request for (host, path, method, headers and model taken
// from the route's own conditions; not path_regex), match() must find that route or one
// before it: first match wins, and a route matches what it asks for.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/config/re2_regex_compiler.h"
#include "adapters/config/yaml_config_loader.h"
#include "core/route/route_table.h"
#include "fuzz_support.h"

namespace {

using vx::core::config::Route;
using vx::core::route::HeaderLookup;
using vx::core::route::RequestView;
using vx::core::route::RouteTable;

// A route's header conditions as the request's fields.
class RouteHeaders final : public HeaderLookup {
 public:
  explicit RouteHeaders(const Route& route) : route_(route) {}
  std::optional<std::string_view> get(std::string_view lower_name) const override {
    for (const auto& [name, value] : route_.match.headers) {
      if (name == lower_name) return std::string_view(value);
    }
    return std::nullopt;
  }

 private:
  const Route& route_;
};

// A request `route` matches, when one can be written down without solving a regex; the
// strings it views live in `host` and `path`.
std::optional<RequestView> request_for(const Route& route, const HeaderLookup& headers,
                                       std::string& host, std::string& path) {
  const auto& m = route.match;
  if (m.path_regex) return std::nullopt;
  for (const auto& [name, value] : m.headers) {  // two conditions on one field may disagree
    if (headers.get(name) != std::string_view(value)) return std::nullopt;
  }
  host = m.host.value_or("any.example");
  if (host.starts_with("*.")) host = "sub" + host.substr(1);
  // The port and one trailing dot are not part of the name matched (route_table.h).
  if (host.find(':') == std::string::npos) host += ".:8080";
  if (m.path_exact) {
    path = *m.path_exact + "?q=1";
  } else if (m.path_prefix) {
    path = *m.path_prefix + "more";
  } else {
    path = "/";
  }
  RequestView view;
  view.method = m.methods.empty() ? std::string_view("GET") : std::string_view(m.methods.front());
  view.host = host;
  view.path = path;
  view.headers = &headers;
  view.ai_model = m.ai_model ? std::string_view(*m.ai_model) : std::string_view();
  return view;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto loaded = vx::adapters::config::load_config_string(yaml, "/etc/vortex/vortex.yaml");
  if (!loaded) {
    VX_FUZZ_CHECK(!loaded.error().empty());  // a refusal always says why
    return 0;
  }
  const vx::adapters::config::Re2RegexCompiler regex;
  auto table = RouteTable::build(*loaded, regex);
  // validate() refuses whatever build() would (route_table.h): an accepted config builds.
  VX_FUZZ_CHECK(table.has_value());
  VX_FUZZ_CHECK(table->size() == (*loaded)->routes.size());
  for (size_t i = 0; i < table->size(); ++i) {
    const Route& route = table->routes()[i];
    const RouteHeaders headers(route);
    std::string host, path;
    const auto request = request_for(route, headers, host, path);
    if (!request) continue;
    const Route* matched = table->match(*request);
    VX_FUZZ_CHECK(matched != nullptr && table->index_of(matched) <= i);
  }
  return 0;
}
