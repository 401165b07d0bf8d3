// ExactSizeAllocator: an allocator for an Asio operation that takes memory of the operation's
// own size from the global allocator. Asio's default (its recycling allocator) hands an
// operation the block the thread freed last if that is large enough: right for operations that
// come and go, wasteful for one that lasts as long as an idle connection (a parked
// connection's readability wait, 112 bytes, got a TLS operation's 300). Bound to the operation
// with boost::asio::bind_allocator.
#pragma once

#include <cstddef>
#include <new>

namespace vx::adapters::net {

template <typename T>
struct ExactSizeAllocator {
  using value_type = T;

  ExactSizeAllocator() = default;
  template <typename U>
  ExactSizeAllocator(const ExactSizeAllocator<U>&) {}  // NOLINT: rebinding converts implicitly

  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { ::operator delete(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const ExactSizeAllocator<U>&) const {
    return true;
  }
};

}  // namespace vx::adapters::net
