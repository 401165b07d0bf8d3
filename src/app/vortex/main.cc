// vortex: the proxy binary (SPEC.md §1): `run`, `check` and `version`.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "adapters/config/yaml_config_loader.h"
#include "adapters/net/tls_check.h"
#include "adapters/upstream/client_tls_context.h"
#include "app/version.h"
#include "app/vortex/server.h"
#include "app/vortex/wasm_plugins.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: vortex run --config FILE\n"
               "       vortex check --config FILE\n"
               "       vortex version\n");
  return 2;
}

// Finds --config FILE / -c FILE / --config=FILE among the arguments after the command.
const char* config_argument(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "--config" || arg == "-c") && i + 1 < argc) return argv[i + 1];
    if (arg.starts_with("--config=")) return argv[i] + std::strlen("--config=");
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string_view command = argv[1];
  if (command == "version" || command == "--version") {
    std::printf("vortex %s (%s, %s)\n", vx::app::kVersion, vx::app::kCommit, vx::app::kBuildType);
    return 0;
  }
  const char* config_path = config_argument(argc, argv);
  if ((command != "run" && command != "check") || config_path == nullptr) return usage();

  auto loaded = vx::adapters::config::load_config_file(config_path);
  if (!loaded) {
    for (const auto& d : loaded.error()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return 1;
  }
  // Certificates and keys are read and matched here so `check` refuses what `run` would.
  auto problems = vx::adapters::net::check_tls(**loaded);
  // Upstream trust stores too (tls.ca): a cluster that could never connect is refused now.
  for (const auto& cluster : (*loaded)->clusters) {
    auto context = vx::adapters::upstream::ClientTlsContext::create(cluster);
    if (!context) {
      problems.push_back({(*loaded)->file, cluster.where.of("tls"),
                          "cluster '" + cluster.name + "': " + context.error()});
    }
  }
  // Wasm plugins compile and start once, so a module `run` would refuse is refused here.
  for (auto& [plugin, problem] : vx::app::WasmPlugins::check(**loaded)) {
    problems.push_back({(*loaded)->file, plugin->where.of("file"), std::move(problem)});
  }
  if (!problems.empty()) {
    for (const auto& d : problems) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return 1;
  }
  if (command == "check") {
    std::printf("%s: ok\n", config_path);
    return 0;
  }
  return vx::app::run_server(std::move(*loaded));
}
