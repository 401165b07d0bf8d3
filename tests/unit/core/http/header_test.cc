#include "core/http/header.h"

#include <gtest/gtest.h>

#include <string>

namespace vx::core::http {
namespace {

bool iequals_bytewise(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

TEST(AsciiLower8, LowersOnlyAsciiCapitals) {
  for (int c = 0; c < 256; ++c) {
    const uint64_t word = 0x0101010101010101ULL * static_cast<uint8_t>(c);
    const uint64_t expected =
        0x0101010101010101ULL * static_cast<uint8_t>(ascii_lower(static_cast<char>(c)));
    EXPECT_EQ(ascii_lower8(word), expected) << "byte " << c;
  }
}

TEST(Iequals, AgreesWithByteLoopForEveryBytePairAndPosition) {
  // Every pair of bytes at every position of strings of length 1..20: the word path, the
  // overlapping tail and the short path all see every case.
  for (size_t len = 1; len <= 20; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (int x = 0; x < 256; ++x) {
        for (int y : {x, x ^ 0x20, x + 1, int{'a'}, int{'A'}, 0x80, 0xff}) {
          std::string a(len, 'k'), b(len, 'K');
          a[pos] = static_cast<char>(x);
          b[pos] = static_cast<char>(y);
          ASSERT_EQ(iequals(a, b), iequals_bytewise(a, b))
              << "len " << len << " pos " << pos << " bytes " << x << "," << y;
        }
      }
    }
  }
}

TEST(Iequals, HeaderNames) {
  EXPECT_TRUE(iequals("Transfer-Encoding", "transfer-encoding"));
  EXPECT_TRUE(iequals("CONTENT-LENGTH", "content-length"));
  EXPECT_FALSE(iequals("content-lengtx", "content-length"));
  EXPECT_FALSE(iequals("Xontent-length", "content-length"));
  EXPECT_FALSE(iequals("connection", "connectio"));
  EXPECT_TRUE(iequals("", ""));
  // '@' and '[' sit next to 'A' and 'Z' but are not letters.
  EXPECT_FALSE(iequals("@@@@@@@@@", "`````````"));
  EXPECT_FALSE(iequals("[[[[[[[[[", "{{{{{{{{{"));
}

}  // namespace
}  // namespace vx::core::http
