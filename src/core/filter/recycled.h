// Recycled<T>: a base that gives T an operator new/delete keeping up to kKeep freed blocks per
// thread for the next T made on that thread. For a small object a filter makes and its stream
// destroys once per request (ports::FilterStream::state()): a warm worker then allocates none.
// A block freed on another thread than the one that made it joins that other thread's spares
// (it is plain memory); a thread's spares are freed when it ends.
#pragma once

#include <array>
#include <cstddef>
#include <new>

namespace vx::core::filter {

template <class T, size_t kKeep = 64>
class Recycled {
 public:
  static void* operator new(size_t size) {
    Spares& spares = spares_of_thread();
    if (size == sizeof(T) && spares.count > 0) return spares.blocks[--spares.count];
    return ::operator new(size);
  }
  static void operator delete(void* block, size_t size) {
    Spares& spares = spares_of_thread();
    if (size == sizeof(T) && !spares.closed && spares.count < kKeep) {
      spares.blocks[spares.count++] = block;
      return;
    }
    ::operator delete(block);
  }
  // How many blocks this thread keeps now (for tests).
  static size_t spare_count() { return spares_of_thread().count; }

 private:
  // Trivially destructible, so that a T freed while the thread ends (after its closer ran)
  // still finds it, closed, and frees the block.
  struct Spares {
    std::array<void*, kKeep> blocks;
    size_t count = 0;
    bool closed = false;
  };
  struct Closer {
    Spares& spares;
    ~Closer() {
      spares.closed = true;
      while (spares.count > 0) ::operator delete(spares.blocks[--spares.count]);
    }
  };
  static Spares& spares_of_thread() {
    thread_local Spares spares;
    thread_local Closer closer{spares};
    return spares;
  }
};

}  // namespace vx::core::filter
