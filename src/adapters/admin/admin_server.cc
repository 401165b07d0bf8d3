#include "adapters/admin/admin_server.h"

#include <grpcpp/grpcpp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "proto/admin.grpc.pb.h"

namespace vx::adapters::admin {

namespace pb = ::vortex::admin;

class AdminService final : public pb::AdminService::Service {
 public:
  explicit AdminService(AdminBackend& backend) : backend_(backend) {}

  grpc::Status ReloadConfig(grpc::ServerContext*, const pb::ReloadConfigRequest* request,
                            pb::ReloadConfigResponse* response) override {
    ReloadResult result = backend_.reload(request->config_path());
    response->set_success(result.success);
    response->set_message(result.message);
    for (auto& e : result.errors) response->add_errors(std::move(e));
    response->set_config_generation(result.config_generation);
    return grpc::Status::OK;
  }

  grpc::Status GetStats(grpc::ServerContext*, const pb::GetStatsRequest*,
                        pb::GetStatsResponse* response) override {
    const Stats stats = backend_.stats();
    response->set_active_connections(static_cast<uint32_t>(stats.active_connections));
    response->set_requests_total(stats.requests_total);
    for (const auto& s : stats.responses_by_status) {
      auto* count = response->add_responses_by_status();
      count->set_status(s.status);
      count->set_count(s.count);
    }
    response->set_uptime_seconds(stats.uptime_seconds);
    response->set_config_generation(stats.config_generation);
    response->set_workers(stats.workers);
    response->set_listeners(stats.listeners);
    response->set_reloads_succeeded(stats.reloads_succeeded);
    response->set_reloads_failed(stats.reloads_failed);
    response->set_version(stats.version);
    response->set_config_path(stats.config_path);
    response->set_bans_active(stats.bans_active);
    return grpc::Status::OK;
  }

  grpc::Status UpdateWasmPlugin(grpc::ServerContext*, const pb::UpdateWasmRequest* request,
                                pb::UpdateWasmResponse* response) override {
    const CallResult result = backend_.update_wasm(request->wasm_binary(), request->plugin_name());
    response->set_success(result.success);
    response->set_message(result.message);
    return grpc::Status::OK;
  }

  grpc::Status ListBackends(grpc::ServerContext*, const pb::ListBackendsRequest*,
                            pb::ListBackendsResponse* response) override {
    for (const auto& b : backend_.backends()) {
      auto* out = response->add_backends();
      out->set_cluster(b.cluster);
      out->set_address(b.address);
      out->set_ewma_ms(b.ewma_ms);
      out->set_active(b.active);
      out->set_breaker(static_cast<pb::BreakerState>(b.breaker));
      out->set_healthy(b.healthy);
      out->set_weight(b.weight);
      out->set_source(b.source);
    }
    return grpc::Status::OK;
  }

  grpc::Status BanIp(grpc::ServerContext*, const pb::BanIpRequest* request,
                     pb::BanIpResponse* response) override {
    const BanResult result = backend_.ban(request->ip(), request->ttl_ms());
    response->set_success(result.success);
    response->set_message(result.message);
    response->set_expires_in_ms(result.expires_in_ms);
    return grpc::Status::OK;
  }

  grpc::Status UnbanIp(grpc::ServerContext*, const pb::UnbanIpRequest* request,
                       pb::UnbanIpResponse* response) override {
    const CallResult result = backend_.unban(request->ip());
    response->set_success(result.success);
    response->set_message(result.message);
    return grpc::Status::OK;
  }

  grpc::Status ListBans(grpc::ServerContext*, const pb::ListBansRequest*,
                        pb::ListBansResponse* response) override {
    BanListResult result = backend_.bans();
    response->set_success(result.success);
    response->set_message(result.message);
    response->set_enforcement(result.enforcement);
    for (const auto& b : result.bans) {
      auto* out = response->add_bans();
      out->set_ip(b.ip);
      out->set_expires_in_ms(b.expires_in_ms);
      out->set_enforcement(b.enforcement);
    }
    return grpc::Status::OK;
  }

 private:
  AdminBackend& backend_;
};

namespace {

// What is at `path` now: nothing, a socket someone accepts on, a dead socket, something else.
enum class PathState { Absent, LiveSocket, StaleSocket, NotASocket, Unusable };

PathState probe(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return errno == ENOENT ? PathState::Absent : PathState::Unusable;
  if (!S_ISSOCK(st.st_mode)) return PathState::NotASocket;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return PathState::Unusable;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int error = errno;
  ::close(fd);
  if (rc == 0) return PathState::LiveSocket;
  return error == ECONNREFUSED ? PathState::StaleSocket : PathState::Unusable;
}

}  // namespace

core::Result<std::unique_ptr<AdminServer>, std::string> AdminServer::start(
    const std::string& socket_path, AdminBackend& backend) {
  const std::string where = "admin socket " + socket_path;
  if (socket_path.empty() || socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return core::unexpected(where + ": path is empty or longer than " +
                            std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
  }
  switch (probe(socket_path)) {
    case PathState::Absent:
      break;
    case PathState::LiveSocket:
      return core::unexpected(where + ": another process (a running Vortex?) answers on it");
    case PathState::NotASocket:
      return core::unexpected(where + ": the path exists and is not a socket");
    case PathState::Unusable:
      return core::unexpected(where + ": cannot be probed (permissions?)");
    case PathState::StaleSocket:
      if (::unlink(socket_path.c_str()) != 0 && errno != ENOENT) {
        return core::unexpected(where +
                                ": cannot remove the stale socket: " + std::strerror(errno));
      }
      break;
  }

  auto service = std::make_unique<AdminService>(backend);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(service.get());
  // gRPC binds inside BuildAndStart: a umask of 0177 there makes the socket 0600 from its first
  // instant (no window in which another user could connect). Control-plane start-up runs
  // before any other thread creates files, so the process-wide umask is safe to flip here.
  const mode_t previous = ::umask(0177);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ::umask(previous);
  if (!server || bound == 0) return core::unexpected(where + ": gRPC cannot bind it");
  if (::chmod(socket_path.c_str(), 0600) != 0) {
    server->Shutdown();
    return core::unexpected(where + ": chmod 0600 failed: " + std::strerror(errno));
  }
  return std::unique_ptr<AdminServer>(
      new AdminServer(socket_path, std::move(service), std::move(server)));
}

AdminServer::AdminServer(std::string socket_path, std::unique_ptr<AdminService> service,
                         std::unique_ptr<grpc::Server> server)
    : socket_path_(std::move(socket_path)),
      service_(std::move(service)),
      server_(std::move(server)) {}

AdminServer::~AdminServer() {
  stop();
}

void AdminServer::stop() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  server_.reset();
  ::unlink(socket_path_.c_str());
}

}  // namespace vx::adapters::admin
