#include "app/vortex/free_memory.h"

#include <cstddef>

// Weak: the TSan build links no jemalloc (its runtime owns malloc), and then this is null.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace vx::app {

void return_free_memory() {
  if (mallctl == nullptr) return;
  // 4096 is MALLCTL_ARENAS_ALL: every arena, without including jemalloc's header (absent
  // from the TSan build).
  mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
}

}  // namespace vx::app
