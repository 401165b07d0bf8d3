#include "core/http/server_names.h"

#include <gtest/gtest.h>

namespace vx::core::http {
namespace {

TEST(ServerNamesTest, ExactBeatsWildcardBeatsCatchAllAndNoneMeansTheDefault) {
  ServerNames names;
  names.add_certificate({});                   // 0: default only
  names.add_certificate({"*"});                // 1
  names.add_certificate({"*.Example.com"});    // 2
  names.add_certificate({"api.example.com"});  // 3
  EXPECT_EQ(names.choose("API.example.com"), 3u);
  EXPECT_EQ(names.choose("www.example.com"), 2u);
  EXPECT_EQ(names.choose("a.b.example.com"), 1u);  // a wildcard covers one label
  EXPECT_EQ(names.choose("example.com"), 1u);
  ServerNames strict;
  strict.add_certificate({"a.test"});
  strict.add_certificate({"b.test"});
  EXPECT_EQ(strict.choose("b.test"), 1u);
  EXPECT_EQ(strict.choose("c.test"), std::nullopt);
}

}  // namespace
}  // namespace vx::core::http
