#include "core/http/hop_by_hop.h"

#include <gtest/gtest.h>

namespace vx::core::http {
namespace {

std::vector<std::string_view> names(const HeaderList& headers) {
  std::vector<std::string_view> out;
  for (const auto& h : headers) out.push_back(h.name);
  return out;
}

TEST(HopByHopTest, RemovesFixedFieldsAndThoseConnectionNames) {
  HeaderList headers{{"Host", "h"},
                     {"Connection", "keep-alive, X-Secret"},
                     {"Keep-Alive", "5"},
                     {"X-Secret", "s"},
                     {"Proxy-Connection", "x"},
                     {"TE", "gzip"},
                     {"Transfer-Encoding", "chunked"},
                     {"Upgrade", "websocket"},
                     {"Accept", "*/*"}};
  remove_hop_by_hop(headers, /*keep_upgrade=*/false);
  EXPECT_EQ(names(headers), (std::vector<std::string_view>{"Host", "Accept"}));
}

TEST(HopByHopTest, KeepsTeTrailersAndUpgradeForATunnel) {
  HeaderList headers{{"TE", "trailers"}, {"Connection", "upgrade"}, {"Upgrade", "websocket"}};
  remove_hop_by_hop(headers, /*keep_upgrade=*/true);
  EXPECT_EQ(names(headers), (std::vector<std::string_view>{"TE", "Upgrade"}));
}

TEST(HopByHopTest, ConnectionTokensMatchCaseInsensitively) {
  HeaderList headers{{"connection", "X-A"}, {"x-a", "1"}, {"X-B", "2"}};
  remove_hop_by_hop(headers, false);
  EXPECT_EQ(names(headers), (std::vector<std::string_view>{"X-B"}));
}

TEST(HopByHopTest, ConnectionCannotRemoveTheHostRoutingUsedNorTheBodysLength) {
  HeaderList headers{{"Host", "admin.internal"},
                     {"Connection", "Host, content-length, X-A"},
                     {"Content-Length", "3"},
                     {"X-A", "1"}};
  remove_hop_by_hop(headers, false);
  EXPECT_EQ(names(headers), (std::vector<std::string_view>{"Host", "Content-Length"}));
}

}  // namespace
}  // namespace vx::core::http
