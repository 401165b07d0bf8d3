// QuicListener: one worker's share of a listener's HTTP/3 (`http3: true`): its UDP socket at
// the listener's address, the loop that reads its datagrams and routes each by destination
// connection ID to its QuicConnection, and the stateless answers (version negotiation, Retry
// under load, stateless reset). Every worker runs one per HTTP/3 listener; docs/http3.md "How
// packets reach their worker" has the whole path:
//  - the workers' sockets form one SO_REUSEPORT group, bound in worker order (the server opens
//    worker 0's listeners, then worker 1's..., at start and on reload, one worker at a time),
//    so a socket's index in the group is its worker's index;
//  - our connection IDs carry the owner's index (core/quic/server_connection_id.h) and a
//    reuseport cBPF program (reuseport_steering.h) makes the kernel deliver each packet to its
//    owner's socket;
//  - a packet that reaches another worker all the same (path migration when the program is
//    missing, a client ID that looks like ours) is forwarded to the owner through the
//    QuicWorkerGroup; the owner answers from its own socket, at the same address.
// Worker thread only.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "adapters/net/listener.h"
#include "adapters/quic/quic_connection.h"
#include "adapters/quic/quic_credentials.h"
#include "adapters/quic/quic_worker_group.h"
#include "core/quic/server_connection_id.h"

namespace vx::adapters::quic {

using UdpSocket = boost::asio::basic_datagram_socket<boost::asio::ip::udp, ports::Executor>;
using InboxSocket =
    boost::asio::basic_datagram_socket<boost::asio::local::datagram_protocol, ports::Executor>;

class QuicListener final : public net::Listener {
 public:
  // Handshakes in progress (on all workers) above which new connections must prove their
  // address (Retry).
  static constexpr size_t kRetryAboveHandshakes = 64;
  static constexpr size_t kCidBytes = core::quic::kServerCidBytes;

  QuicListener(const core::config::Listener& config, const net::ListenerEnv& env);
  ~QuicListener() override;

  // Listener. open() loads the certificates into GnuTLS, binds the UDP socket and, on the last
  // worker, attaches the steering program to the group (unless VORTEX_QUIC_STEERING=off; when
  // the kernel refuses it, says so once and packets reach their worker by forwarding alone).
  core::Result<void, std::string> open() override;
  ports::Awaitable<void> serve() override;
  void close() override;
  size_t live_connections() const override { return connections_.size(); }
  const core::config::Listener& config() const override { return config_; }

  // For QuicConnection.
  ports::Executor executor() const { return executor_; }
  proxy::WorkerContext& worker() { return worker_; }
  const core::config::Limits& limits() const { return limits_; }
  const QuicCredentials& credentials() const { return *credentials_; }
  const ngtcp2_addr& local_address() const { return local_; }
  // A new connection ID owned by this worker (random but for the owner byte).
  void make_cid(ngtcp2_cid& cid) const;
  void register_cid(const ngtcp2_cid& cid, QuicConnection* connection);
  void unregister_cid(const ngtcp2_cid& cid);
  void stateless_reset_token(uint8_t* token, const ngtcp2_cid& cid) const;
  void send(const ngtcp2_addr& remote, const uint8_t* data, size_t size);
  // A connection finished its handshake (it no longer counts toward Retry).
  void handshake_done() { group_->handshakes.fetch_sub(1, std::memory_order_relaxed); }

 private:
  // The datagrams other workers forward here, until the listener's socket is gone.
  ports::Awaitable<void> serve_inbox();
  // `forwarded`: another worker sent it here as the owner; it is not forwarded again.
  void on_datagram(const uint8_t* data, size_t size, const boost::asio::ip::udp::endpoint& from,
                   bool forwarded);
  void forward(unsigned owner, const uint8_t* data, size_t size,
               const boost::asio::ip::udp::endpoint& from);
  void accept_connection(const uint8_t* data, size_t size, const ngtcp2_path& path,
                         const boost::asio::ip::udp::endpoint& from);
  void send_version_negotiation(const ngtcp2_version_cid& vc, const ngtcp2_addr& remote);
  void send_retry(const ngtcp2_pkt_hd& hd, const ngtcp2_addr& remote);
  void send_stateless_reset(const ngtcp2_version_cid& vc, size_t size, const ngtcp2_addr& remote);

  ports::Executor executor_;
  const core::config::Listener& config_;
  const core::config::Limits& limits_;
  proxy::WorkerContext& worker_;
  net::ConnectionBudget& budget_;
  unsigned index_;    // this worker's: the owner byte of its connection IDs
  unsigned workers_;  // how many serve the listener
  std::shared_ptr<QuicWorkerGroup> group_;
  std::unique_ptr<QuicCredentials> credentials_;
  UdpSocket socket_;
  InboxSocket inbox_;
  bool inbox_done_ = false;
  ngtcp2_sockaddr_union local_storage_{};
  ngtcp2_addr local_{};
  // Declared first, so it outlives the connections, which leave it as they go.
  std::unordered_map<std::string, QuicConnection*> by_cid_;
  std::list<std::unique_ptr<QuicConnection>> connections_;
  bool closed_ = false;
  net::Timer done_signal_;
};

}  // namespace vx::adapters::quic
