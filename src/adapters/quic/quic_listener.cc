#include "adapters/quic/quic_listener.h"

#include <ngtcp2/ngtcp2_crypto.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "adapters/quic/random_bytes.h"
#include "adapters/quic/reuseport_steering.h"
#include "ports/guarded_spawn.h"

namespace vx::adapters::quic {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxDatagram = 65536;
constexpr ngtcp2_duration kRetryTokenLifetime = 10 * NGTCP2_SECONDS;
// The smallest datagram a stateless reset may answer (RFC 9000 §10.3: never bigger than the
// packet that triggered it, and at least 21 bytes so it looks like a short-header packet).
constexpr size_t kMinStatelessResetBytes =
    NGTCP2_MIN_STATELESS_RESET_RANDLEN + 1 + NGTCP2_STATELESS_RESET_TOKENLEN;

// What a forwarded datagram carries before its bytes: the client's address.
struct ForwardedFrom {
  uint32_t address_size;
  uint8_t address[sizeof(sockaddr_in6)];
};

bool steering_wanted() {
  const char* setting = std::getenv("VORTEX_QUIC_STEERING");
  return !setting || std::strcmp(setting, "off") != 0;
}

std::string key_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

std::string address_text(const asio::ip::udp::endpoint& from) {
  auto address = from.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

}  // namespace

QuicListener::QuicListener(const core::config::Listener& config, const net::ListenerEnv& env)
    : executor_(env.executor),
      config_(config),
      limits_(env.limits),
      worker_(env.worker),
      budget_(env.budget),
      index_(env.worker.index),
      workers_(std::max(1u, env.worker.workers)),
      socket_(env.executor),
      inbox_(env.executor),
      done_signal_(env.executor) {}

QuicListener::~QuicListener() = default;

core::Result<void, std::string> QuicListener::open() {
  auto credentials = QuicCredentials::load(config_);
  if (!credentials) return core::unexpected(credentials.error());
  credentials_ = std::move(*credentials);
  group_ = QuicWorkerGroup::join(config_, workers_);
  const int inbox = group_->take_inbox(index_);
  boost::system::error_code ec;
  if (inbox >= 0) inbox_.assign(asio::local::datagram_protocol(), inbox, ec);
  if (inbox < 0 || ec) {
    return core::unexpected("listener " + config_.name +
                            ": cannot make the QUIC forwarding socket");
  }

  const auto address = asio::ip::make_address(config_.address.host, ec);
  if (ec) {
    return core::unexpected("listener " + config_.name + ": bad address " + config_.address.text);
  }
  const asio::ip::udp::endpoint endpoint(address, config_.address.port);
  socket_.open(endpoint.protocol(), ec);
  if (!ec) socket_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    // Every worker's socket joins one reuseport group (the kernel hands each its share); a
    // reload binds the new listener beside the old one, which keeps serving its connections
    // while they drain.
    const int one = 1;
    if (::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (!ec) socket_.bind(endpoint, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    return core::unexpected("listener " + config_.name + ": cannot bind UDP " +
                            config_.address.text + ": " + ec.message());
  }
  const auto bound = socket_.local_endpoint(ec);
  std::memcpy(&local_storage_, bound.data(), bound.size());
  local_.addr = reinterpret_cast<ngtcp2_sockaddr*>(&local_storage_);
  local_.addrlen = static_cast<ngtcp2_socklen>(bound.size());
  // The last worker's socket completes the group: steer it, if every socket joined in worker
  // order (a socket's index in the group is then its worker's, which the program returns).
  if (group_->bound_in_order(index_) && workers_ > 1 && steering_wanted()) {
    const std::string refused = attach_reuseport_steering(socket_.native_handle(), workers_);
    if (!refused.empty()) {
      std::fprintf(stderr,
                   "vortex: listener %s: the kernel refused the QUIC steering program (%s); "
                   "packets reach their worker by forwarding\n",
                   config_.name.c_str(), refused.c_str());
    }
  }
  return {};
}

ports::Awaitable<void> QuicListener::serve() {
  ports::spawn_guarded(executor_, serve_inbox(), ports::TaskKind::Listener);
  std::vector<uint8_t> buffer(kMaxDatagram);
  asio::ip::udp::endpoint from;
  while (!closed_ || !connections_.empty()) {
    auto [ec, n] =
        co_await socket_.async_receive_from(asio::buffer(buffer), from, ports::kDeferTuple);
    if (ec == asio::error::operation_aborted) break;
    if (ec) continue;  // ICMP errors surface here; the socket stays usable
    on_datagram(buffer.data(), n, from, false);
  }
  // Closed: every connection ends on its own (drain), then the sockets go.
  while (!connections_.empty()) {
    done_signal_.expires_at(SteadyClock::time_point::max());
    co_await done_signal_.async_wait(ports::kDeferTuple);
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
  inbox_.close(ignored);
  while (!inbox_done_) {
    done_signal_.expires_at(SteadyClock::time_point::max());
    co_await done_signal_.async_wait(ports::kDeferTuple);
  }
}

ports::Awaitable<void> QuicListener::serve_inbox() {
  std::vector<uint8_t> buffer(sizeof(ForwardedFrom) + kMaxDatagram);
  for (;;) {
    auto [ec, n] = co_await inbox_.async_receive(asio::buffer(buffer), ports::kDeferTuple);
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
    if (ec || n <= sizeof(ForwardedFrom)) continue;
    ForwardedFrom head;
    std::memcpy(&head, buffer.data(), sizeof head);
    asio::ip::udp::endpoint from;
    if (head.address_size > from.capacity()) continue;
    std::memcpy(from.data(), head.address, head.address_size);
    from.resize(head.address_size);
    on_datagram(buffer.data() + sizeof head, n - sizeof head, from, true);
  }
  inbox_done_ = true;
  done_signal_.cancel();
}

void QuicListener::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& c : connections_) c->drain();
  if (connections_.empty()) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  }
}

void QuicListener::on_datagram(const uint8_t* data, size_t size,
                               const asio::ip::udp::endpoint& from, bool forwarded) {
  ngtcp2_version_cid vc;
  const int rv = ngtcp2_pkt_decode_version_cid(&vc, data, size, kCidBytes);
  ngtcp2_path path{
      local_,
      {const_cast<ngtcp2_sockaddr*>(reinterpret_cast<const ngtcp2_sockaddr*>(from.data())),
       static_cast<ngtcp2_socklen>(from.size())},
      nullptr};
  if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
    if (!closed_) send_version_negotiation(vc, path.remote);
    return;
  }
  if (rv != 0) return;  // not QUIC: dropped
  auto found = by_cid_.find(key_of(vc.dcid, vc.dcidlen));
  if (found != by_cid_.end()) {
    found->second->on_datagram(path, data, size);
    return;
  }
  const auto owner = core::quic::owner_of({vc.dcid, vc.dcidlen}, workers_);
  if (owner && *owner != index_ && !forwarded) {
    forward(*owner, data, size, from);
    return;
  }
  if ((data[0] & 0x80) == 0) {
    // A short-header packet for a connection its owner (this worker) does not know (it
    // ended, or the process restarted): tell the peer at once instead of letting it time out.
    // Not once closed: a reload that reopened the listener at this address shares the
    // reuseport group, and the packet may be the new listener's.
    if (!closed_) send_stateless_reset(vc, size, path.remote);
    return;
  }
  accept_connection(data, size, path, from);
}

void QuicListener::accept_connection(const uint8_t* data, size_t size, const ngtcp2_path& path,
                                     const asio::ip::udp::endpoint& from) {
  if (closed_) return;
  ngtcp2_pkt_hd hd;
  if (ngtcp2_accept(&hd, data, size) != 0) return;
  if (budget_.open.load(std::memory_order_relaxed) >= budget_.max) return;
  std::string client_ip = address_text(from);
  if (worker_.ban_view && worker_.ban_view->is_banned(client_ip)) return;

  ngtcp2_cid original_dcid;
  const ngtcp2_cid* original = nullptr;
  if (hd.type == NGTCP2_PKT_INITIAL && hd.token.len > 0 &&
      hd.token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
    const auto& secret = QuicWorkerGroup::secret();
    if (ngtcp2_crypto_verify_retry_token(&original_dcid, hd.token.base, hd.token.len, secret.data(),
                                         secret.size(), hd.version, path.remote.addr,
                                         path.remote.addrlen, &hd.dcid, kRetryTokenLifetime,
                                         QuicConnection::now_ts()) != 0) {
      // RFC 9000 §8.1.2: a bad Retry token closes with INVALID_TOKEN, keeping no state.
      uint8_t out[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
      const auto n = ngtcp2_crypto_write_connection_close(
          out, sizeof out, hd.version, &hd.scid, &hd.dcid, NGTCP2_INVALID_TOKEN, nullptr, 0);
      if (n > 0) send(path.remote, out, static_cast<size_t>(n));
      return;
    }
    original = &original_dcid;
  }
  if (!original && group_->handshakes.load(std::memory_order_relaxed) >= kRetryAboveHandshakes) {
    send_retry(hd, path.remote);  // under load: only clients that prove their address
    return;
  }
  auto connection = std::make_unique<QuicConnection>(*this, std::move(client_ip), from.port());
  if (!connection->accept(hd, path, original)) return;
  QuicConnection* raw = connection.get();
  auto it = connections_.insert(connections_.end(), std::move(connection));
  budget_.open.fetch_add(1, std::memory_order_relaxed);
  group_->handshakes.fetch_add(1, std::memory_order_relaxed);
  ports::spawn_guarded(executor_, raw->run(), ports::TaskKind::Connection, [this, it] {
    if (!(*it)->handshake_done()) handshake_done();
    connections_.erase(it);
    budget_.open.fetch_sub(1, std::memory_order_relaxed);
    if (closed_ && connections_.empty()) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);
    }
    done_signal_.cancel();
  });
  raw->on_datagram(path, data, size);
}

void QuicListener::forward(unsigned owner, const uint8_t* data, size_t size,
                           const asio::ip::udp::endpoint& from) {
  ForwardedFrom head{};
  head.address_size = static_cast<uint32_t>(from.size());
  std::memcpy(head.address, from.data(), std::min(from.size(), sizeof head.address));
  iovec parts[2] = {{&head, sizeof head}, {const_cast<uint8_t*>(data), size}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = 2;
  // The owner's queue full (or gone with its listener): dropped, as the network may.
  ::sendmsg(group_->forward_fd(owner), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void QuicListener::make_cid(ngtcp2_cid& cid) const {
  cid.datalen = kCidBytes;
  fill_random(cid.data, cid.datalen);
  core::quic::mark_owner({cid.data, cid.datalen}, index_);
}

void QuicListener::register_cid(const ngtcp2_cid& cid, QuicConnection* connection) {
  by_cid_[key_of(cid.data, cid.datalen)] = connection;
}

void QuicListener::unregister_cid(const ngtcp2_cid& cid) {
  by_cid_.erase(key_of(cid.data, cid.datalen));
}

void QuicListener::stateless_reset_token(uint8_t* token, const ngtcp2_cid& cid) const {
  const auto& secret = QuicWorkerGroup::secret();
  ngtcp2_crypto_generate_stateless_reset_token(token, secret.data(), secret.size(), &cid);
}

void QuicListener::send(const ngtcp2_addr& remote, const uint8_t* data, size_t size) {
  // Non-blocking: a full socket buffer drops the datagram, which QUIC's loss recovery resends.
  ::sendto(socket_.native_handle(), data, size, MSG_DONTWAIT, remote.addr, remote.addrlen);
}

void QuicListener::send_version_negotiation(const ngtcp2_version_cid& vc,
                                            const ngtcp2_addr& remote) {
  const uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
  uint8_t unused = 0;
  fill_random(&unused, 1);
  uint8_t out[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
  const auto n =
      ngtcp2_pkt_write_version_negotiation(out, sizeof out, unused, vc.scid, vc.scidlen, vc.dcid,
                                           vc.dcidlen, versions, std::size(versions));
  if (n > 0) send(remote, out, static_cast<size_t>(n));
}

void QuicListener::send_retry(const ngtcp2_pkt_hd& hd, const ngtcp2_addr& remote) {
  ngtcp2_cid scid;
  make_cid(scid);  // the Initial that follows the Retry comes back to this worker
  const auto& secret = QuicWorkerGroup::secret();
  uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
  const auto token_size = ngtcp2_crypto_generate_retry_token(
      token, secret.data(), secret.size(), hd.version, remote.addr, remote.addrlen, &scid, &hd.dcid,
      QuicConnection::now_ts());
  if (token_size < 0) return;
  uint8_t out[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
  const auto n = ngtcp2_crypto_write_retry(out, sizeof out, hd.version, &hd.scid, &scid, &hd.dcid,
                                           token, static_cast<size_t>(token_size));
  if (n > 0) send(remote, out, static_cast<size_t>(n));
}

void QuicListener::send_stateless_reset(const ngtcp2_version_cid& vc, size_t size,
                                        const ngtcp2_addr& remote) {
  if (size < kMinStatelessResetBytes + 1) return;  // smaller than the trigger (anti-loop)
  ngtcp2_cid cid;
  ngtcp2_cid_init(&cid, vc.dcid, vc.dcidlen);
  uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN];
  stateless_reset_token(token, cid);
  const size_t random_size = std::min<size_t>(size - 1 - NGTCP2_STATELESS_RESET_TOKENLEN - 1, 64);
  uint8_t random[64];
  fill_random(random, random_size);
  uint8_t out[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
  const auto n = ngtcp2_pkt_write_stateless_reset(out, sizeof out, token, random, random_size);
  if (n > 0) send(remote, out, static_cast<size_t>(n));
}

}  // namespace vx::adapters::quic
