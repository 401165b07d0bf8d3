// AdminServer: the gRPC admin API (SPEC.md §5, proto/admin.proto) on a unix socket, created
// mode 0600. Served by gRPC's own threads; each call goes straight to the AdminBackend.
// start() and stop() are called by one control thread.
#pragma once

#include <memory>
#include <string>

#include "adapters/admin/admin_backend.h"
#include "core/result.h"

namespace grpc {
class Server;
}

namespace vx::adapters::admin {

class AdminService;

class AdminServer {
 public:
  // Serves `backend` (which must outlive the server) on unix socket `socket_path`.
  // A stale socket file (nothing accepts on it) is removed first. Refuses, with a message,
  // when a live process answers on the path (another Vortex), when the path exists and is not
  // a socket, or when gRPC cannot bind. The socket is mode 0600 before the first call is served.
  static core::Result<std::unique_ptr<AdminServer>, std::string> start(
      const std::string& socket_path, AdminBackend& backend);
  ~AdminServer();

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Stops serving (calls in flight get up to a second) and removes the socket file.
  void stop();
  const std::string& socket_path() const { return socket_path_; }

 private:
  AdminServer(std::string socket_path, std::unique_ptr<AdminService> service,
              std::unique_ptr<grpc::Server> server);

  std::string socket_path_;
  std::unique_ptr<AdminService> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace vx::adapters::admin
