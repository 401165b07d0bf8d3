// ReusedBlock / ReusedBlockAllocator: the memory of an operation that is started again and
// again, one at a time (a listener's accept), kept for the next one instead of going back to
// the allocator. Besides saving the allocation, it keeps the operation out of the allocator's
// slabs: the accept operation is in the same size class as Asio's per-socket state, which every
// accepted connection keeps while the operation is freed, so accepting a burst interleaved the
// two and left the slabs of idle connections' socket state half empty (issue 19: ~0.4 KiB per
// idle connection). Bound to the operation with boost::asio::bind_allocator. One thread only.
#pragma once

#include <cstddef>
#include <new>

namespace vx::adapters::net {

class ReusedBlock {
 public:
  static constexpr size_t kBytes = 256;

  ReusedBlock() = default;
  ReusedBlock(const ReusedBlock&) = delete;
  ReusedBlock& operator=(const ReusedBlock&) = delete;

  // The block if it is free and large enough, else memory of its own.
  void* take(size_t bytes) {
    if (!in_use_ && bytes <= kBytes) {
      in_use_ = true;
      return storage_;
    }
    return ::operator new(bytes);
  }
  void give(void* p) {
    if (p == storage_) {
      in_use_ = false;
    } else {
      ::operator delete(p);
    }
  }
  bool in_use() const { return in_use_; }

 private:
  alignas(std::max_align_t) unsigned char storage_[kBytes];
  bool in_use_ = false;
};

template <typename T>
class ReusedBlockAllocator {
 public:
  using value_type = T;

  explicit ReusedBlockAllocator(ReusedBlock& block) : block_(&block) {}
  template <typename U>
  ReusedBlockAllocator(const ReusedBlockAllocator<U>& other) : block_(other.block()) {}

  T* allocate(size_t n) { return static_cast<T*>(block_->take(n * sizeof(T))); }
  void deallocate(T* p, size_t) { block_->give(p); }
  ReusedBlock* block() const { return block_; }

  template <typename U>
  bool operator==(const ReusedBlockAllocator<U>& other) const {
    return block_ == other.block();
  }

 private:
  ReusedBlock* block_;
};

}  // namespace vx::adapters::net
