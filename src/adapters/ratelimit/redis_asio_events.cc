// See redis_asio_events.h. Same shape as hiredis' own adapters (adapters/libevent.h), with
// Asio's one-shot waits re-armed after each readiness event.
#include "adapters/ratelimit/redis_asio_events.h"

#include <memory>

#include <hiredis/async.h>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace vx::adapters::ratelimit {
namespace {

using Descriptor =
    boost::asio::posix::basic_stream_descriptor<boost::asio::io_context::executor_type>;

// Invariants:
//  1. ac_ != nullptr until hiredis calls cleanup; after that no handler touches hiredis.
//  2. At most one wait per direction is outstanding (read_waiting_ / write_waiting_).
//  3. self_ keeps this alive while hiredis holds it; each outstanding wait holds a
//     shared_ptr too, so the object outlives its last handler.
class AsioEvents : public std::enable_shared_from_this<AsioEvents> {
 public:
  AsioEvents(redisAsyncContext* ac, boost::asio::io_context& io)
      : ac_(ac), descriptor_(io.get_executor(), ac->c.fd) {}

  void hold_self() { self_ = shared_from_this(); }

  static void add_read(void* p) { static_cast<AsioEvents*>(p)->set_read(true); }
  static void del_read(void* p) { static_cast<AsioEvents*>(p)->set_read(false); }
  static void add_write(void* p) { static_cast<AsioEvents*>(p)->set_write(true); }
  static void del_write(void* p) { static_cast<AsioEvents*>(p)->set_write(false); }
  static void cleanup(void* p) { static_cast<AsioEvents*>(p)->detach(); }

 private:
  // A disabled direction's outstanding wait is left to complete; its handler sees the flag
  // and does nothing, which costs one wake-up and saves cancelling both directions.
  void set_read(bool on) {
    want_read_ = on;
    if (on) arm_read();
  }
  void set_write(bool on) {
    want_write_ = on;
    if (on) arm_write();
  }

  void arm_read() {
    if (read_waiting_ || ac_ == nullptr) return;
    read_waiting_ = true;
    descriptor_.async_wait(Descriptor::wait_read,
                           [self = shared_from_this()](boost::system::error_code ec) {
                             self->read_waiting_ = false;
                             if (ec || self->ac_ == nullptr || !self->want_read_) return;
                             redisAsyncHandleRead(self->ac_);  // may free the context
                             if (self->ac_ != nullptr && self->want_read_) self->arm_read();
                           });
  }

  void arm_write() {
    if (write_waiting_ || ac_ == nullptr) return;
    write_waiting_ = true;
    descriptor_.async_wait(Descriptor::wait_write,
                           [self = shared_from_this()](boost::system::error_code ec) {
                             self->write_waiting_ = false;
                             if (ec || self->ac_ == nullptr || !self->want_write_) return;
                             redisAsyncHandleWrite(self->ac_);  // may free the context
                             if (self->ac_ != nullptr && self->want_write_) self->arm_write();
                           });
  }

  // hiredis is freeing the context and will close the fd itself: give the descriptor back
  // without closing it (release() also aborts the outstanding waits).
  void detach() {
    ac_ = nullptr;
    want_read_ = want_write_ = false;
    descriptor_.release();
    auto keep = std::move(self_);  // may destroy *this when this scope ends: touch nothing after
  }

  redisAsyncContext* ac_;
  Descriptor descriptor_;
  std::shared_ptr<AsioEvents> self_;
  bool want_read_ = false;
  bool want_write_ = false;
  bool read_waiting_ = false;
  bool write_waiting_ = false;
};

}  // namespace

bool attach_to_asio(redisAsyncContext* ac, boost::asio::io_context& io) {
  if (ac->ev.data != nullptr) return false;
  auto events = std::make_shared<AsioEvents>(ac, io);
  events->hold_self();
  ac->ev.data = events.get();
  ac->ev.addRead = &AsioEvents::add_read;
  ac->ev.delRead = &AsioEvents::del_read;
  ac->ev.addWrite = &AsioEvents::add_write;
  ac->ev.delWrite = &AsioEvents::del_write;
  ac->ev.cleanup = &AsioEvents::cleanup;
  return true;
}

}  // namespace vx::adapters::ratelimit
