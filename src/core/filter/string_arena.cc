#include "core/filter/string_arena.h"

#include <algorithm>
#include <cstring>

namespace vx::core::filter {

std::string_view StringArena::keep(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (blocks_.empty() || blocks_.back().size - used_ < bytes.size()) {
    const size_t size = std::max(kBlockBytes, bytes.size());
    blocks_.push_back({std::make_unique<char[]>(size), size});
    used_ = 0;
  }
  char* at = blocks_.back().bytes.get() + used_;
  std::memcpy(at, bytes.data(), bytes.size());
  used_ += bytes.size();
  return {at, bytes.size()};
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
