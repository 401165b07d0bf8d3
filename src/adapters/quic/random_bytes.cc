#include "adapters/quic/random_bytes.h"

#include <sys/random.h>

namespace vx::adapters::quic {

void fill_random(uint8_t* into, size_t size) {
  while (size > 0) {
    const ssize_t n = ::getrandom(into, size, 0);
    if (n <= 0) continue;  // EINTR
    into += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace vx::adapters::quic
