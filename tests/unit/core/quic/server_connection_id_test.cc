#include "core/quic/server_connection_id.h"

#include <gtest/gtest.h>

#include <array>

namespace vx::core::quic {
namespace {

std::array<uint8_t, kServerCidBytes> random_looking_cid() {
  std::array<uint8_t, kServerCidBytes> cid;
  for (size_t i = 0; i < cid.size(); ++i) cid[i] = static_cast<uint8_t>(0xA5 ^ (i * 37));
  return cid;
}

TEST(ServerConnectionIdTest, AMarkedIdRoutesToItsOwner) {
  for (unsigned worker : {0u, 1u, 3u, 255u}) {
    auto cid = random_looking_cid();
    mark_owner(cid, worker);
    EXPECT_EQ(owner_of(cid, 256), worker);
  }
}

TEST(ServerConnectionIdTest, MarkingKeepsTheRandomBytes) {
  auto cid = random_looking_cid();
  const auto before = cid;
  mark_owner(cid, 2);
  for (size_t i = 0; i < cid.size(); ++i) {
    if (i != kOwnerOffset) {
      EXPECT_EQ(cid[i], before[i]) << i;
    }
  }
}

TEST(ServerConnectionIdTest, AnOwnerByteBeyondTheWorkersRoutesNowhere) {
  auto cid = random_looking_cid();
  mark_owner(cid, 4);
  EXPECT_EQ(owner_of(cid, 4), std::nullopt);
  EXPECT_EQ(owner_of(cid, 5), 4u);
}

TEST(ServerConnectionIdTest, IdsOfAnotherLengthAreNeverOurs) {
  std::array<uint8_t, 8> client_chosen{};  // owner byte 0, but a client's 8-byte ID
  EXPECT_EQ(owner_of(client_chosen, 4), std::nullopt);
  std::array<uint8_t, 20> longer{};
  EXPECT_EQ(owner_of(longer, 4), std::nullopt);
  EXPECT_EQ(owner_of({}, 4), std::nullopt);
}

}  // namespace
}  // namespace vx::core::quic
