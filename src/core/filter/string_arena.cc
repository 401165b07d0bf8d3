#include "core/filter/string_arena.h"

#include <algorithm>
#include <cstring>

namespace vx::core::filter {

std::string_view StringArena::keep(std::string_view bytes) {
  if (bytes.empty()) return {};
  char* at = take(bytes.size());
  std::memcpy(at, bytes.data(), bytes.size());
  return {at, bytes.size()};
}

char* StringArena::take_new_block(size_t size) {
  const size_t block = std::max(kBlockBytes, size);
  blocks_.push_back({std::make_unique<char[]>(block), block});
  char* at = blocks_.back().bytes.get();
  next_ = at + size;
  free_ = block - size;
  return at;
}

bool StringArena::held_by_earlier_block(std::string_view bytes) const {
  for (size_t i = 0; i + 1 < blocks_.size(); ++i) {
    if (lies_within(bytes, {blocks_[i].bytes.get(), blocks_[i].size})) return true;
  }
  return false;
}

void StringArena::release_extra_blocks() {
  // Keep one standard block: a stream that needed more is not the common case to size for.
  const bool keep_first = blocks_.front().size == kBlockBytes;
  blocks_.erase(blocks_.begin() + (keep_first ? 1 : 0), blocks_.end());
}

size_t StringArena::capacity() const {
  size_t total = 0;
  for (const Block& b : blocks_) total += b.size;
  return total;
}

}  // namespace vx::core::filter
