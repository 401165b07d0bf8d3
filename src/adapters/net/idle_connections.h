// IdleConnections: one listener's keep-alive connections while they wait for a next request,
// so that one that stays idle costs almost nothing (issue 19). An HTTP/1.1 connection waiting
// in its serving coroutine holds its frames, its watchdog timer and its parser; one idle for
// kParkAfter is *parked*: its coroutines end and only a ParkedConnection (the stream and a
// deadline) stays, waiting for readability with a plain completion handler that starts a fresh
// serving coroutine when bytes come. Parked connections have no timer of their own: the
// listener's one sweep (about once a second) parks who waited long enough and closes whom the
// idle timeout expired, in deadline order.
//
// The busy path pays two list links per idle wait (entering and leaving the waiting list); a
// connection that goes quiet for a moment keeps its frames, so nothing is rebuilt per request.
// One per listener per worker; the worker's thread only.
#pragma once

#include <chrono>

#include "adapters/net/stream.h"

namespace vx::adapters::net {

struct ConnectionEnv;  // adapters/net/connection_entry.h

// A node of an intrusive doubly-linked list; unlinks itself when destroyed.
struct IdleLink {
  IdleLink* prev = nullptr;
  IdleLink* next = nullptr;

  IdleLink() = default;
  IdleLink(const IdleLink&) = delete;
  IdleLink& operator=(const IdleLink&) = delete;
  ~IdleLink() { unlink(); }
  bool linked() const { return prev != nullptr; }
  void unlink() {
    if (!prev) return;
    prev->next = next;
    next->prev = prev;
    prev = next = nullptr;
  }
};

// A connection waiting for a next request in its serving coroutine.
struct IdleWaiter : IdleLink {
  std::chrono::steady_clock::time_point since;
  // Ends the wait so that the connection parks (or closes, if it cannot).
  virtual void park() = 0;

 protected:
  ~IdleWaiter() = default;
};

// A parked connection: the stream alone, until bytes come, its deadline passes or a drain.
struct ParkedConnection : IdleLink, DownstreamConnection {
  std::chrono::steady_clock::time_point deadline;

  explicit ParkedConnection(std::chrono::steady_clock::time_point d) : deadline(d) {}
  virtual Socket& tcp() = 0;
  // The connection served again (its bytes came): a fresh serving coroutine, the stream moved
  // into it.
  virtual ports::Awaitable<void> resume(ConnectionSlot& slot, const ConnectionEnv& env) = 0;
  // Drain, idle timeout: closes the socket; the readability wait then ends with an error.
  void drain() override {
    boost::system::error_code ignored;
    tcp().shutdown(boost::asio::socket_base::shutdown_both, ignored);
    tcp().close(ignored);
  }
};

class IdleConnections {
 public:
  // Idle this long in its coroutine, a connection parks.
  static constexpr std::chrono::milliseconds kParkAfter{1000};
  // The sweep's period: parking happens kParkAfter to kParkAfter + kTick after the last request.
  static constexpr std::chrono::milliseconds kTick{1000};
  // A shorter idle timeout is left to the connection's own watchdog: it closes it soon anyway.
  // From this one up, a connection parks before its deadline, which is then at most a tick late.
  static constexpr std::chrono::milliseconds kMinParkedIdle{kParkAfter + 2 * kTick};

  IdleConnections() {
    waiting_.prev = waiting_.next = &waiting_, parked_.prev = parked_.next = &parked_;
  }
  IdleConnections(const IdleConnections&) = delete;
  IdleConnections& operator=(const IdleConnections&) = delete;
  ~IdleConnections() {
    // Whoever is still linked unlinks into nothing (only at teardown).
    release(waiting_);
    release(parked_);
  }

  static bool parkable(std::chrono::milliseconds idle_timeout) {
    return idle_timeout >= kMinParkedIdle;
  }
  void waiting(IdleWaiter& w, std::chrono::steady_clock::time_point now) {
    w.since = now;
    link_before(w, waiting_);
  }
  void parked(ParkedConnection& p) {
    // Deadline order; a reload that changed the idle timeout is the only way one is out of order.
    IdleLink* after = parked_.prev;
    while (after != &parked_ && static_cast<ParkedConnection*>(after)->deadline > p.deadline) {
      after = after->prev;
    }
    link_before(p, *after->next);
  }
  // Parks the waiters idle since kParkAfter, drains the parked past their deadline. Returns
  // when the next sweep is due.
  std::chrono::steady_clock::time_point sweep(std::chrono::steady_clock::time_point now) {
    while (waiting_.next != &waiting_) {
      auto* w = static_cast<IdleWaiter*>(waiting_.next);
      if (w->since + kParkAfter > now) break;
      w->unlink();
      w->park();
    }
    while (parked_.next != &parked_) {
      auto* p = static_cast<ParkedConnection*>(parked_.next);
      if (p->deadline > now) break;
      p->unlink();
      p->drain();
    }
    auto next = now + kTick;
    if (parked_.next != &parked_)
      next = std::min(next, static_cast<ParkedConnection*>(parked_.next)->deadline);
    return next;
  }

 private:
  static void link_before(IdleLink& node, IdleLink& at) {
    node.unlink();
    node.prev = at.prev;
    node.next = &at;
    at.prev->next = &node;
    at.prev = &node;
  }
  static void release(IdleLink& head) {
    while (head.next != &head) head.next->unlink();
    head.prev = head.next = nullptr;
  }

  IdleLink waiting_;  // the heads of two circular lists
  IdleLink parked_;
};

}  // namespace vx::adapters::net
