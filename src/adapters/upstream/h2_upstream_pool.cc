#include "adapters/upstream/h2_upstream_pool.h"

#include <algorithm>

#include "ports/guarded_spawn.h"

namespace vx::adapters::upstream {

using core::http::Error;
using core::http::ErrorKind;

H2UpstreamPool::H2UpstreamPool(ports::Executor executor) : executor_(executor) {}

H2UpstreamPool::~H2UpstreamPool() = default;

H2UpstreamSession& H2UpstreamPool::open_session(const ports::UpstreamTarget& target) {
  auto& list = sessions_[target.endpoint_id];
  // A burst waiting on a connecting session fills it up to the limit it assumes: the one a
  // ready session to the same endpoint learnt, so that a peer allowing fewer streams than
  // the RFC's floor of 100 spreads the burst over enough sessions in one round.
  uint32_t expected = 100;
  for (const auto& s : list) {
    if (s->state() == H2UpstreamSession::State::Ready) {
      expected = std::max<uint32_t>(1, s->codec().peer_max_concurrent_streams());
    }
  }
  auto& session = *list.emplace_back(std::make_unique<H2UpstreamSession>(executor_, *this, target));
  session.expect_stream_limit(expected);
  // run() reports failures as values; an exception ends only this connection.
  ports::spawn_guarded(executor_, session.run(), ports::TaskKind::UpstreamSession,
                       [this, &session] { on_session_idle(session); });
  return session;
}

void H2UpstreamPool::on_session_idle(H2UpstreamSession& session) {
  if (!session.run_done() || session.attached() > 0) return;  // invariant 2
  auto it = sessions_.find(session.endpoint_id());
  if (it == sessions_.end()) return;
  std::erase_if(it->second, [&](const auto& s) { return s.get() == &session; });
  if (it->second.empty()) sessions_.erase(it);
}

void H2UpstreamPool::release(ports::UpstreamStream* stream, bool) {
  auto* s = static_cast<H2UpstreamStream*>(stream);
  H2UpstreamPool& pool = s->pool();
  s->finish();
  pool.free_streams_.emplace_back(s);
}

ports::AsyncResult<ports::UpstreamLease> H2UpstreamPool::acquire(
    const ports::UpstreamTarget& target, bool) {
  if (closed_) {
    co_return core::unexpected(Error{ErrorKind::UpstreamConnectRefused, "worker is draining"});
  }
  std::unique_ptr<H2UpstreamStream> stream;
  if (free_streams_.empty()) {
    stream = std::make_unique<H2UpstreamStream>(executor_, *this);
  } else {
    stream = std::move(free_streams_.back());
    free_streams_.pop_back();
  }
  // Bounded: each round either returns or moves on after the peer's limit became known.
  for (int round = 0; round < 4; ++round) {
    H2UpstreamSession* session = nullptr;
    if (auto it = sessions_.find(target.endpoint_id); it != sessions_.end()) {
      for (auto& s : it->second) {
        // A reload that changed the cluster's TLS settings needs new connections.
        if (s->has_room() && s->tls_identity() == target.tls) {
          session = s.get();
          break;
        }
      }
    }
    if (!session) session = &open_session(target);
    // The slot is taken before waiting, so a burst fills this connection (invariant 1).
    session->attach();
    const size_t slot = session->attached();
    stream->start(*session);
    if (session->state() != H2UpstreamSession::State::Connecting) {
      co_return ports::UpstreamLease(stream.release(), &H2UpstreamPool::release);
    }
    auto ready = co_await session->wait_ready();
    if (!ready) {
      release(stream.release(), false);
      co_return core::unexpected(ready.error());
    }
    // The peer's SETTINGS may allow fewer streams than waited for this connection: the
    // waiters past its limit go to another one instead of queueing inside nghttp2.
    if (slot <= session->codec().peer_max_concurrent_streams()) {
      co_return ports::UpstreamLease(stream.release(), &H2UpstreamPool::release);
    }
    stream->finish();
  }
  release(stream.release(), false);
  co_return core::unexpected(
      Error{ErrorKind::UpstreamConnectRefused, "upstream allows too few concurrent streams"});
}

void H2UpstreamPool::close_all() {
  closed_ = true;
  for (auto& [key, list] : sessions_) {
    for (auto& s : list) s->drain();
  }
}

size_t H2UpstreamPool::connection_count() const {
  size_t n = 0;
  for (const auto& [key, list] : sessions_) n += list.size();
  return n;
}

}  // namespace vx::adapters::upstream
