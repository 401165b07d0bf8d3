// BodyBuffer: the body bytes a body hook sees and may rewrite. It views the pipeline's pieces
// without copying; a rewrite makes it own its bytes. One per stream and direction, reused chunk
// after chunk; not thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace vx::core::filter {

class BodyBuffer {
 public:
  BodyBuffer() = default;
  BodyBuffer(const BodyBuffer&) = delete;
  BodyBuffer& operator=(const BodyBuffer&) = delete;

  // The pipeline's side: view `pieces` (they must outlive the use of this buffer).
  void view(std::span<const std::string_view> pieces);

  // The bytes as they stand, in order; the views live until the next call that changes them.
  std::span<const std::string_view> pieces() const { return pieces_; }
  size_t size() const;
  bool empty() const { return size() == 0; }
  // Appends every byte to `out`.
  void copy_to(std::string& out) const;

  // Replaces bytes [at, at + length) (clamped to the body) with `bytes`: at = 0 and length >=
  // size() replaces everything, length = 0 inserts (at = size() appends). `bytes` may view this
  // buffer's own bytes.
  void splice(size_t at, size_t length, std::string_view bytes);
  void replace(std::string_view bytes) { splice(0, size(), bytes); }
  void clear() { splice(0, size(), {}); }

 private:
  std::span<const std::string_view> pieces_;
  std::string owned_;
  std::string scratch_;
  std::string_view owned_view_;
};

}  // namespace vx::core::filter
