// vortexctl: the admin API's command-line client (SPEC.md §1, §5). One call per run over the
// unix socket; human-readable output; exit 0 on success, 1 when the call fails or is refused,
// 2 on a usage error.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "proto/admin.grpc.pb.h"

namespace {

namespace pb = ::vortex::admin;

constexpr const char* kDefaultSocket = "/tmp/vortex_admin.sock";

int usage() {
  std::fprintf(stderr,
               "usage: vortexctl [--socket PATH] COMMAND\n"
               "  reload [--config FILE]        reload the config (default: the running file)\n"
               "  stats                         counters and state\n"
               "  backends                      every endpoint: EWMA, active, breaker, health\n"
               "  wasm push FILE [--plugin NAME] replace a Wasm plugin's module\n"
               "  ban IP [--ttl-ms N]           ban a client address (default ttl: bans.ttl_ms)\n"
               "  unban IP                      lift a ban\n"
               "  bans                          active bans\n"
               "default socket: %s\n",
               kDefaultSocket);
  return 2;
}

// The call failed before Vortex could answer (no socket, not Vortex, deadline).
int transport_error(const std::string& socket, const grpc::Status& status) {
  std::fprintf(stderr, "vortexctl: cannot reach vortex on %s: %s\n", socket.c_str(),
               status.error_message().c_str());
  return 1;
}

// The answer of a call that changes state (SPEC.md §5: success + message): 0 and "ok: ..." on
// success, 1 with the reason when the call failed or Vortex refused it.
template <typename Response>
int report_state_change(const std::string& socket, const grpc::Status& status, const Response& r) {
  if (!status.ok()) return transport_error(socket, status);
  if (!r.success()) {
    std::fprintf(stderr, "refused: %s\n", r.message().c_str());
    return 1;
  }
  std::printf("ok: %s\n", r.message().c_str());
  return 0;
}

std::unique_ptr<grpc::ClientContext> context_with_deadline(std::chrono::seconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

const char* breaker_name(pb::BreakerState state) {
  switch (state) {
    case pb::BREAKER_STATE_OPEN:
      return "open";
    case pb::BREAKER_STATE_HALF_OPEN:
      return "half-open";
    default:
      return "closed";
  }
}

// Parses "--name VALUE" / "--name=VALUE" out of args (removing it); nullopt when absent.
// Sets `bad` when the flag is there without a value.
std::optional<std::string> take_flag(std::vector<std::string>& args, std::string_view name,
                                     bool& bad) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == name) {
      if (i + 1 >= args.size()) {
        bad = true;
        return std::nullopt;
      }
      std::string value = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      return value;
    }
    if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=') {
      std::string value = a.substr(name.size() + 1);
      args.erase(args.begin() + static_cast<long>(i));
      return value;
    }
  }
  return std::nullopt;
}

int reload(pb::AdminService::Stub& stub, const std::string& socket, std::vector<std::string> args) {
  bool bad = false;
  auto file = take_flag(args, "--config", bad);
  if (!file) file = take_flag(args, "-c", bad);
  if (bad || !args.empty()) return usage();
  pb::ReloadConfigRequest request;
  // Vortex runs in another directory: send an absolute path.
  if (file) request.set_config_path(std::filesystem::absolute(*file).lexically_normal().string());
  pb::ReloadConfigResponse response;
  auto context = context_with_deadline(std::chrono::seconds(60));
  const auto status = stub.ReloadConfig(context.get(), request, &response);
  if (!status.ok()) return transport_error(socket, status);
  if (!response.success()) {
    std::fprintf(stderr, "refused: %s\n", response.message().c_str());
    for (const auto& e : response.errors()) std::fprintf(stderr, "%s\n", e.c_str());
    return 1;
  }
  std::printf("ok: %s\n", response.message().c_str());
  return 0;
}

int stats(pb::AdminService::Stub& stub, const std::string& socket) {
  pb::GetStatsResponse r;
  auto context = context_with_deadline(std::chrono::seconds(10));
  const auto status = stub.GetStats(context.get(), pb::GetStatsRequest{}, &r);
  if (!status.ok()) return transport_error(socket, status);
  std::printf("version:            %s\n", r.version().c_str());
  std::printf("config:             %s (generation %llu)\n", r.config_path().c_str(),
              static_cast<unsigned long long>(r.config_generation()));
  std::printf("uptime:             %.1f s\n", r.uptime_seconds());
  std::printf("workers:            %u\n", r.workers());
  std::printf("listeners:          %u\n", r.listeners());
  std::printf("active_connections: %u\n", r.active_connections());
  std::printf("requests_total:     %llu\n", static_cast<unsigned long long>(r.requests_total()));
  std::string by_status;
  for (const auto& s : r.responses_by_status()) {
    if (!by_status.empty()) by_status += ", ";
    by_status += std::to_string(s.status()) + "=" + std::to_string(s.count());
  }
  std::printf("responses:          %s\n", by_status.empty() ? "-" : by_status.c_str());
  std::printf("reloads:            %llu ok, %llu refused\n",
              static_cast<unsigned long long>(r.reloads_succeeded()),
              static_cast<unsigned long long>(r.reloads_failed()));
  std::printf("bans_active:        %llu\n", static_cast<unsigned long long>(r.bans_active()));
  return 0;
}

int backends(pb::AdminService::Stub& stub, const std::string& socket) {
  pb::ListBackendsResponse r;
  auto context = context_with_deadline(std::chrono::seconds(10));
  const auto status = stub.ListBackends(context.get(), pb::ListBackendsRequest{}, &r);
  if (!status.ok()) return transport_error(socket, status);
  if (r.backends().empty()) {
    std::printf("no endpoints\n");
    return 0;
  }
  std::printf("%-20s %-28s %10s %7s %-10s %-8s %6s %s\n", "CLUSTER", "ADDRESS", "EWMA_MS", "ACTIVE",
              "BREAKER", "HEALTHY", "WEIGHT", "SOURCE");
  for (const auto& b : r.backends()) {
    // An older server sends no source: its endpoints all come from the file.
    const std::string source = b.source().empty() ? "file" : b.source();
    std::printf("%-20s %-28s %10.3f %7u %-10s %-8s %6u %s\n", b.cluster().c_str(),
                b.address().c_str(), b.ewma_ms(), b.active(), breaker_name(b.breaker()),
                b.healthy() ? "yes" : "no", b.weight(), source.c_str());
  }
  return 0;
}

int wasm(pb::AdminService::Stub& stub, const std::string& socket, std::vector<std::string> args) {
  bool bad = false;
  auto plugin = take_flag(args, "--plugin", bad);
  if (bad || args.size() != 2 || args[0] != "push") return usage();
  std::ifstream in(args[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "vortexctl: cannot read %s\n", args[1].c_str());
    return 1;
  }
  pb::UpdateWasmRequest request;
  request.set_wasm_binary(
      std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  if (plugin) request.set_plugin_name(*plugin);
  pb::UpdateWasmResponse r;
  auto context = context_with_deadline(std::chrono::seconds(60));
  const auto status = stub.UpdateWasmPlugin(context.get(), request, &r);
  return report_state_change(socket, status, r);
}

int ban(pb::AdminService::Stub& stub, const std::string& socket, std::vector<std::string> args) {
  bool bad = false;
  auto ttl = take_flag(args, "--ttl-ms", bad);
  if (bad || args.size() != 1) return usage();
  pb::BanIpRequest request;
  request.set_ip(args[0]);
  if (ttl) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(ttl->c_str(), &end, 10);
    if (ttl->empty() || *end != '\0') {
      std::fprintf(stderr, "vortexctl: --ttl-ms wants a number of milliseconds\n");
      return 2;
    }
    request.set_ttl_ms(value);
  }
  pb::BanIpResponse r;
  auto context = context_with_deadline(std::chrono::seconds(10));
  const auto status = stub.BanIp(context.get(), request, &r);
  return report_state_change(socket, status, r);
}

int unban(pb::AdminService::Stub& stub, const std::string& socket, std::vector<std::string> args) {
  if (args.size() != 1) return usage();
  pb::UnbanIpRequest request;
  request.set_ip(args[0]);
  pb::UnbanIpResponse r;
  auto context = context_with_deadline(std::chrono::seconds(10));
  const auto status = stub.UnbanIp(context.get(), request, &r);
  return report_state_change(socket, status, r);
}

int bans(pb::AdminService::Stub& stub, const std::string& socket) {
  pb::ListBansResponse r;
  auto context = context_with_deadline(std::chrono::seconds(10));
  const auto status = stub.ListBans(context.get(), pb::ListBansRequest{}, &r);
  if (!status.ok()) return transport_error(socket, status);
  if (!r.success()) {
    std::fprintf(stderr, "refused: %s\n", r.message().c_str());
    return 1;
  }
  if (r.bans().empty()) {
    std::printf("no active bans (new bans: %s)\n", r.enforcement().c_str());
    return 0;
  }
  std::printf("%-40s %14s %s\n", "IP", "EXPIRES_IN_MS", "ENFORCED_BY");
  for (const auto& b : r.bans()) {
    std::printf("%-40s %14llu %s\n", b.ip().c_str(),
                static_cast<unsigned long long>(b.expires_in_ms()), b.enforcement().c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool bad = false;
  std::string socket = take_flag(args, "--socket", bad).value_or(kDefaultSocket);
  if (bad || args.empty() || args[0] == "-h" || args[0] == "--help") return usage();
  const std::string command = args[0];
  args.erase(args.begin());

  auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
  auto stub = pb::AdminService::NewStub(channel);
  if (command == "reload") return reload(*stub, socket, std::move(args));
  if (!args.empty() && command != "wasm" && command != "ban" && command != "unban") {
    return usage();
  }
  if (command == "stats") return stats(*stub, socket);
  if (command == "backends") return backends(*stub, socket);
  if (command == "wasm") return wasm(*stub, socket, std::move(args));
  if (command == "ban") return ban(*stub, socket, std::move(args));
  if (command == "unban") return unban(*stub, socket, std::move(args));
  if (command == "bans") return bans(*stub, socket);
  return usage();
}
