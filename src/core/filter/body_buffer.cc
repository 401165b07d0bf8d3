#include "core/filter/body_buffer.h"

#include <algorithm>

namespace vx::core::filter {

void BodyBuffer::view(std::span<const std::string_view> pieces) {
  pieces_ = pieces;
}

size_t BodyBuffer::size() const {
  size_t n = 0;
  for (auto piece : pieces_) n += piece.size();
  return n;
}

void BodyBuffer::copy_to(std::string& out) const {
  for (auto piece : pieces_) out.append(piece);
}

void BodyBuffer::splice(size_t at, size_t length, std::string_view bytes) {
  // Built in scratch_ first: `bytes` and the pieces may point into owned_.
  scratch_.clear();
  copy_to(scratch_);
  at = std::min(at, scratch_.size());
  length = std::min(length, scratch_.size() - at);
  scratch_.replace(at, length, bytes);
  owned_.swap(scratch_);
  owned_view_ = owned_;
  pieces_ = owned_view_.empty() ? std::span<const std::string_view>{}
                                : std::span<const std::string_view>(&owned_view_, 1);
}

}  // namespace vx::core::filter
