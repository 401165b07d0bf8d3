#include "core/filter/string_arena.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace vx::core::filter {

std::string_view StringArena::keep(std::string_view bytes) {
  if (bytes.empty()) return {};
  char* at = take(bytes.size());
  std::memcpy(at, bytes.data(), bytes.size());
  return {at, bytes.size()};
}

char* StringArena::take(size_t size) {
  if (blocks_.empty() || blocks_.back().size - used_ < size) {
    const size_t block = std::max(kBlockBytes, size);
    blocks_.push_back({std::make_unique<char[]>(block), block});
    used_ = 0;
  }
  char* at = blocks_.back().bytes.get() + used_;
  used_ += size;
  return at;
}

bool StringArena::holds(std::string_view bytes) const {
  const auto at = reinterpret_cast<uintptr_t>(bytes.data());
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const auto start = reinterpret_cast<uintptr_t>(blocks_[i].bytes.get());
    const size_t handed_out = i + 1 == blocks_.size() ? used_ : blocks_[i].size;
    if (at >= start && at - start <= handed_out && bytes.size() <= handed_out - (at - start)) {
      return true;
    }
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
