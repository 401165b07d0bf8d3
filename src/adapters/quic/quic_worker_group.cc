#include "adapters/quic/quic_worker_group.h"

#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <mutex>

#include "adapters/quic/random_bytes.h"

namespace vx::adapters::quic {

namespace {

// What a worker may have waiting for it from the others before forwarding drops (QUIC's loss
// recovery resends): about 100 full-size datagrams.
constexpr int kForwardQueueBytes = 256 * 1024;

std::mutex registry_mutex;
// By the config::Listener the group serves: every worker's listener of one opening is made from
// the same object, which outlives them (so a live group's key is never reused).
std::map<const core::config::Listener*, std::weak_ptr<QuicWorkerGroup>> registry;

}  // namespace

std::shared_ptr<QuicWorkerGroup> QuicWorkerGroup::join(const core::config::Listener& config,
                                                       unsigned workers) {
  std::lock_guard lock(registry_mutex);
  std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = registry[&config];
  auto group = slot.lock();
  if (!group) {
    group = std::make_shared<QuicWorkerGroup>(workers);
    slot = group;
  }
  return group;
}

const std::array<uint8_t, 32>& QuicWorkerGroup::secret() {
  static const std::array<uint8_t, 32> made = [] {
    std::array<uint8_t, 32> bytes{};
    fill_random(bytes.data(), bytes.size());
    return bytes;
  }();
  return made;
}

QuicWorkerGroup::QuicWorkerGroup(unsigned workers) : workers_(workers), ends_(workers) {
  for (auto& ends : ends_) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) continue;
    ::setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &kForwardQueueBytes, sizeof kForwardQueueBytes);
    ends.read = pair[0];
    ends.write = pair[1];
  }
}

QuicWorkerGroup::~QuicWorkerGroup() {
  for (const auto& ends : ends_) {
    if (ends.read >= 0) ::close(ends.read);
    if (ends.write >= 0) ::close(ends.write);
  }
}

int QuicWorkerGroup::take_inbox(unsigned worker) {
  std::lock_guard lock(registry_mutex);
  const int fd = ends_[worker].read;
  ends_[worker].read = -1;
  return fd;
}

bool QuicWorkerGroup::bound_in_order(unsigned worker) {
  std::lock_guard lock(registry_mutex);
  if (worker != bound_) in_order_ = false;
  ++bound_;
  return in_order_ && bound_ == workers_;
}

}  // namespace vx::adapters::quic
