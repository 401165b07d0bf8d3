// The steering program run by the real kernel: a reuseport group of UDP sockets on loopback,
// datagrams shaped like QUIC packets, and which socket each one reaches.
#include "adapters/quic/reuseport_steering.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "core/quic/server_connection_id.h"

namespace vx::adapters::quic {
namespace {

using core::quic::kServerCidBytes;

constexpr unsigned kWorkers = 4;

class Group {
 public:
  Group() {
    for (unsigned i = 0; i < kWorkers; ++i) {
      const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      const int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
      sockaddr_in at{};
      at.sin_family = AF_INET;
      at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      at.sin_port = port_;
      EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
      socklen_t size = sizeof at;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&at), &size);
      port_ = at.sin_port;
      fds_.push_back(fd);
    }
  }
  ~Group() {
    for (int fd : fds_) ::close(fd);
  }
  int last() const { return fds_.back(); }

  // Sends `packet` from a fresh client socket (a new 4-tuple each time) and returns the index
  // of the group's socket that got it, or -1.
  int deliver(const std::vector<uint8_t>& packet) const {
    const int client = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = port_;
    ::sendto(client, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    int got = -1;
    std::vector<pollfd> polls;
    for (int fd : fds_) polls.push_back({fd, POLLIN, 0});
    if (::poll(polls.data(), polls.size(), 2000) > 0) {
      for (size_t i = 0; i < polls.size(); ++i) {
        if (polls[i].revents & POLLIN) {
          uint8_t sink[2048];
          ::recv(fds_[i], sink, sizeof sink, 0);
          got = static_cast<int>(i);
        }
      }
    }
    ::close(client);
    return got;
  }

 private:
  std::vector<int> fds_;
  in_port_t port_ = 0;
};

std::vector<uint8_t> short_header(uint8_t owner) {
  std::vector<uint8_t> p(1 + kServerCidBytes + 40, 0x11);
  p[0] = 0x40;
  p[1 + core::quic::kOwnerOffset] = owner;
  return p;
}

std::vector<uint8_t> long_header(size_t dcid_length, uint8_t owner) {
  std::vector<uint8_t> p = {0xC0, 0, 0, 0, 1, static_cast<uint8_t>(dcid_length)};
  for (size_t i = 0; i < dcid_length; ++i) p.push_back(0x22);
  p[6 + core::quic::kOwnerOffset] = owner;
  p.resize(1200, 0);
  return p;
}

TEST(ReuseportSteeringTest, TheKernelTakesTheProgram) {
  Group group;
  EXPECT_EQ(attach_reuseport_steering(group.last(), kWorkers), "");
}

TEST(ReuseportSteeringTest, ShortHeaderPacketsReachTheWorkerTheirIdNames) {
  Group group;
  ASSERT_EQ(attach_reuseport_steering(group.last(), kWorkers), "");
  for (int round = 0; round < 3; ++round) {
    for (uint8_t owner = 0; owner < kWorkers; ++owner) {
      EXPECT_EQ(group.deliver(short_header(owner)), owner);
    }
  }
}

TEST(ReuseportSteeringTest, LongHeaderPacketsCarryingOurIdReachItsOwner) {
  Group group;
  ASSERT_EQ(attach_reuseport_steering(group.last(), kWorkers), "");
  for (uint8_t owner = 0; owner < kWorkers; ++owner) {
    EXPECT_EQ(group.deliver(long_header(kServerCidBytes, owner)), owner);
  }
}

TEST(ReuseportSteeringTest, ClientChosenIdsAndStrangeBytesAreSpreadByTheKernelsHash) {
  Group group;
  ASSERT_EQ(attach_reuseport_steering(group.last(), kWorkers), "");
  std::set<int> initials, unknown_owner;
  for (int i = 0; i < 40; ++i) {
    // An 8-byte client-chosen ID whose first byte is 0: steering by it would pin worker 0.
    initials.insert(group.deliver(long_header(8, 0)));
    unknown_owner.insert(group.deliver(short_header(200)));
  }
  EXPECT_EQ(initials.count(-1), 0u);
  EXPECT_GE(initials.size(), 2u);
  EXPECT_EQ(unknown_owner.count(-1), 0u);
  EXPECT_GE(unknown_owner.size(), 2u);
}

TEST(ReuseportSteeringTest, RuntsAreDeliveredNotDropped) {
  Group group;
  ASSERT_EQ(attach_reuseport_steering(group.last(), kWorkers), "");
  EXPECT_GE(group.deliver({0x40}), 0);
  EXPECT_GE(group.deliver({0xC0, 0, 0, 0, 1}), 0);
}

}  // namespace
}  // namespace vx::adapters::quic
