// StringArena: bytes a stream keeps for as long as it lives (header values a filter set, a
// local response's body), handed out as views that stay valid until clear(). One per stream
// (kept in the exchange's scratch and cleared between streams, so a warm connection reuses its
// first block); not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace vx::core::filter {

// True when `piece` lies wholly inside `region` (compared as addresses: they may be unrelated).
inline bool lies_within(std::string_view piece, std::string_view region) {
  const uintptr_t offset =
      reinterpret_cast<uintptr_t>(piece.data()) - reinterpret_cast<uintptr_t>(region.data());
  return offset <= region.size() && piece.size() <= region.size() - offset;
}

class StringArena {
 public:
  StringArena() = default;
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  // A copy of `bytes`, valid until clear(). Never moves what it handed out before.
  std::string_view keep(std::string_view bytes);
  // `size` contiguous bytes for the caller to fill, valid until clear(): copying several
  // pieces into one piece of room costs one check instead of one per piece. Inline: a stream
  // takes room a few times for every header a filter or plugin sets.
  char* take(size_t size) {
    if (size > free_) return take_new_block(size);
    char* at = next_;
    next_ += size;
    free_ -= size;
    return at;
  }
  // True when `bytes` lie in room this arena handed out (so they live until clear()): what is
  // already here need not be copied again.
  bool holds(std::string_view bytes) const {
    if (lies_within(bytes, {next_ - handed_out(), handed_out()})) return true;
    return blocks_.size() > 1 && held_by_earlier_block(bytes);
  }
  // Forgets every copy; keeps the first block for the next stream.
  void clear() {
    if (blocks_.size() > 1 || (!blocks_.empty() && blocks_.front().size != kBlockBytes)) {
      release_extra_blocks();
    }
    next_ = blocks_.empty() ? nullptr : blocks_.front().bytes.get();
    free_ = blocks_.empty() ? 0 : blocks_.front().size;
  }
  // Bytes of memory held (what keeping the arena between streams costs).
  size_t capacity() const;

 private:
  // Small enough that a stream editing a few headers allocates once, large enough that it
  // does not allocate per header. Larger copies get a block of their own.
  static constexpr size_t kBlockBytes = 1024;

  void release_extra_blocks();
  char* take_new_block(size_t size);
  bool held_by_earlier_block(std::string_view bytes) const;
  // Bytes taken in blocks_.back().
  size_t handed_out() const { return blocks_.empty() ? 0 : blocks_.back().size - free_; }

  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t size = 0;
  };
  std::vector<Block> blocks_;
  char* next_ = nullptr;  // the first free byte of blocks_.back()
  size_t free_ = 0;       // bytes left after next_ in blocks_.back()
};

}  // namespace vx::core::filter
