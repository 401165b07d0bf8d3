// QuicListener: the Listener for `http3: true`: one UDP socket at the listener's address, the
// loop that reads its datagrams and routes each by destination connection ID to its
// QuicConnection, and the stateless answers (version negotiation, Retry under load, stateless
// reset). HTTP/3 is served by ONE worker per listener (make_listeners gives it to worker 0):
// every connection ID and every path of a connection then reach the same thread without a
// reuseport steering program, so migration and NAT rebinding cannot misroute packets.
// Worker thread only.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <array>
#include <boost/asio/ip/udp.hpp>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "adapters/net/listener.h"
#include "adapters/quic/quic_connection.h"
#include "adapters/quic/quic_credentials.h"

namespace vx::adapters::quic {

using UdpSocket = boost::asio::basic_datagram_socket<boost::asio::ip::udp, ports::Executor>;

class QuicListener final : public net::Listener {
 public:
  // Handshakes in progress above which new connections must prove their address (Retry).
  static constexpr size_t kRetryAboveHandshakes = 64;
  static constexpr size_t kCidBytes = 18;

  QuicListener(const core::config::Listener& config, const net::ListenerEnv& env);
  ~QuicListener() override;

  // Listener. open() loads the certificates into GnuTLS and binds the UDP socket.
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
  void register_cid(const ngtcp2_cid& cid, QuicConnection* connection);
  void unregister_cid(const ngtcp2_cid& cid);
  void stateless_reset_token(uint8_t* token, const ngtcp2_cid& cid) const;
  void send(const ngtcp2_addr& remote, const uint8_t* data, size_t size);
  // A connection finished its handshake (it no longer counts toward Retry).
  void handshake_done() { --handshakes_; }

 private:
  void on_datagram(const uint8_t* data, size_t size, const boost::asio::ip::udp::endpoint& from);
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
  std::unique_ptr<QuicCredentials> credentials_;
  UdpSocket socket_;
  ngtcp2_sockaddr_union local_storage_{};
  ngtcp2_addr local_{};
  std::array<uint8_t, 32> secret_{};  // keys Retry tokens and stateless reset tokens
  // Declared first, so it outlives the connections, which leave it as they go.
  std::unordered_map<std::string, QuicConnection*> by_cid_;
  std::list<std::unique_ptr<QuicConnection>> connections_;
  size_t handshakes_ = 0;  // connections accepted whose handshake has not completed
  bool closed_ = false;
  net::Timer done_signal_;
};

}  // namespace vx::adapters::quic
