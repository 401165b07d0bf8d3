// What the fuzz targets share: the invariant check, a "view lies inside this buffer" test, and
// the choices a target makes besides the bytes themselves (piece sizes, limits, which stream
// to reset), drawn from the input's own hash so that a saved input replays exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "core/ports/random.h"

// An invariant the code under test must keep whatever the input. A violation is a finding:
// the message names it, the trap makes libFuzzer save the input.
#define VX_FUZZ_CHECK(cond)                                                             \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      __builtin_trap();                                                                 \
    }                                                                                   \
  } while (0)

namespace vx::fuzz {

// FNV-1a, 64 bits.
inline uint64_t hash_of(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Choices seeded by the input: every mutation of the bytes also changes how they are split and
// which branches the harness takes, and the same file always takes the same ones. Two objects
// built from the same input make the same choices in the same order.
class Choices {
 public:
  explicit Choices(std::string_view input, uint64_t salt = 0) : rng_(hash_of(input) ^ salt) {}

  uint64_t below(uint64_t bound) { return rng_.below(bound); }
  bool one_in(uint64_t n) { return below(n) == 0; }

  // How many of the `left` bytes the next read returns: mostly a few bytes (the cases that
  // cross every boundary of the wire format), sometimes a larger read, sometimes all of it.
  size_t piece(size_t left) {
    if (left == 0) return 0;
    size_t n;
    switch (below(4)) {
      case 0:
        n = 1 + below(4);
        break;
      case 1:
        n = 1 + below(32);
        break;
      case 2:
        n = 1 + below(512);
        break;
      default:
        n = left;
        break;
    }
    return n < left ? n : left;
  }

 private:
  core::Xoshiro256 rng_;
};

// The bytes one peer sends on one connection, handed over a read at a time.
class Wire {
 public:
  // split = nullptr: everything in one read; else reads of split->piece() bytes.
  Wire(std::string_view bytes, Choices* split) : bytes_(bytes), split_(split) {}

  // Appends the next read to `buffer` in a new allocation, as a connection's buffer moves when
  // it grows or is compacted: a view kept across reads then points at freed memory, which ASan
  // reports. False once the peer has sent everything.
  bool read_into(std::string& buffer) {
    if (at_ == bytes_.size()) return false;
    const size_t left = bytes_.size() - at_;
    const size_t n = split_ ? split_->piece(left) : left;
    std::string moved;
    moved.reserve(buffer.size() + n);
    moved.append(buffer).append(bytes_.substr(at_, n));
    buffer.swap(moved);
    at_ += n;
    return true;
  }

 private:
  std::string_view bytes_;
  Choices* split_;
  size_t at_ = 0;
};

// RFC 9110 §5.5: CR, LF and NUL in a field must be refused (or replaced); passed on, they would
// split the message on the next hop.
inline bool carries_no_line_break(std::string_view field) {
  return field.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// True when `part` views bytes of `whole` (an empty view is inside anything).
inline bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  const std::less_equal<const char*> le;
  return le(whole.data(), part.data()) &&
         le(part.data() + part.size(), whole.data() + whole.size());
}

}  // namespace vx::fuzz
