#include "adapters/quic/quic_worker_group.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace vx::adapters::quic {
namespace {

TEST(QuicWorkerGroupTest, TheWorkersOfOneListenerShareAGroupAndAnotherListenerHasItsOwn) {
  core::config::Listener a, b;
  auto first = QuicWorkerGroup::join(a, 2);
  EXPECT_EQ(QuicWorkerGroup::join(a, 2), first);
  EXPECT_NE(QuicWorkerGroup::join(b, 2), first);
  EXPECT_EQ(first->workers(), 2u);
}

TEST(QuicWorkerGroupTest, ALeftGroupIsMadeAnewForTheNextOpening) {
  core::config::Listener a;
  std::weak_ptr<QuicWorkerGroup> old = QuicWorkerGroup::join(a, 2);
  EXPECT_TRUE(old.expired());
  EXPECT_NE(QuicWorkerGroup::join(a, 2), nullptr);
}

TEST(QuicWorkerGroupTest, SteeringNeedsEveryWorkerBoundInWorkerOrder) {
  QuicWorkerGroup in_order(3);
  EXPECT_FALSE(in_order.bound_in_order(0));
  EXPECT_FALSE(in_order.bound_in_order(1));
  EXPECT_TRUE(in_order.bound_in_order(2));

  QuicWorkerGroup shuffled(3);
  EXPECT_FALSE(shuffled.bound_in_order(1));
  EXPECT_FALSE(shuffled.bound_in_order(0));
  EXPECT_FALSE(shuffled.bound_in_order(2));
}

TEST(QuicWorkerGroupTest, ADatagramForwardedToAWorkerReachesItsInbox) {
  QuicWorkerGroup group(2);
  const int inbox = group.take_inbox(1);
  ASSERT_GE(inbox, 0);
  EXPECT_EQ(group.take_inbox(1), -1);  // once
  const char packet[] = "quic";
  ASSERT_EQ(::send(group.forward_fd(1), packet, sizeof packet, MSG_DONTWAIT), sizeof packet);
  char got[16] = {};
  EXPECT_EQ(::recv(inbox, got, sizeof got, MSG_DONTWAIT), sizeof packet);
  EXPECT_STREQ(got, "quic");
  ::close(inbox);
}

TEST(QuicWorkerGroupTest, AFullInboxDropsInsteadOfBlocking) {
  QuicWorkerGroup group(1);
  const int inbox = group.take_inbox(0);
  std::vector<char> datagram(1400);
  int sent = 0;
  while (sent < 10000 &&
         ::send(group.forward_fd(0), datagram.data(), datagram.size(), MSG_DONTWAIT) > 0) {
    ++sent;
  }
  EXPECT_LT(sent, 10000);  // bounded: the send fails (EAGAIN) rather than queue without end
  ::close(inbox);
}

TEST(QuicWorkerGroupTest, TheSecretIsOneForTheProcess) {
  EXPECT_EQ(&QuicWorkerGroup::secret(), &QuicWorkerGroup::secret());
  EXPECT_NE(QuicWorkerGroup::secret(), (std::array<uint8_t, 32>{}));
}

}  // namespace
}  // namespace vx::adapters::quic
